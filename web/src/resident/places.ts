// Places to search from. The directory has no geocoding of addresses, so the app offers a typed town or
// municipality (matched against this list of municipal centres, nearest clinics first from its centre) and
// the device's own position (navigator.geolocation). Approximate centres; nothing is fetched from elsewhere.
// Find care and booking share the place list, the "use my position" control and the `near` query built here.

import { fill, h } from "../dom";
import { t } from "../i18n";
import { button } from "../ui";

export interface Position {
  lat: number;
  lon: number;
}

export interface Place extends Position {
  name: string;
}

const PLACES: [string, number, number][] = [
  ["Stockholm", 59.3293, 18.0686], ["Nacka", 59.3105, 18.1637], ["Lidingö", 59.3667, 18.15],
  ["Solna", 59.36, 18.0], ["Sundbyberg", 59.3617, 17.9717], ["Södertälje", 59.1955, 17.6253],
  ["Danderyd", 59.3999, 18.0333], ["Sollentuna", 59.428, 17.9507], ["Täby", 59.4439, 18.0687],
  ["Järfälla", 59.4231, 17.8351], ["Huddinge", 59.2363, 17.9819], ["Haninge", 59.1687, 18.1374],
  ["Tyresö", 59.2442, 18.2284], ["Botkyrka", 59.2, 17.83], ["Sigtuna", 59.6173, 17.7236],
  ["Upplands Väsby", 59.5184, 17.9113], ["Vallentuna", 59.5344, 18.0776], ["Österåker", 59.4808, 18.299],
  ["Värmdö", 59.3162, 18.5], ["Ekerö", 59.2906, 17.8122], ["Norrtälje", 59.758, 18.7049],
  ["Vaxholm", 59.4024, 18.3512], ["Nynäshamn", 58.9034, 17.9479],
  ["Uppsala", 59.8586, 17.6389], ["Enköping", 59.6361, 17.0777], ["Östhammar", 60.259, 18.3706],
  ["Tierp", 60.3453, 17.5155], ["Knivsta", 59.7256, 17.7868], ["Bålsta", 59.5683, 17.532],
  ["Nyköping", 58.753, 17.0079], ["Eskilstuna", 59.3712, 16.5098], ["Strängnäs", 59.3774, 17.0312],
  ["Katrineholm", 58.9959, 16.2072], ["Flen", 59.0581, 16.5884], ["Oxelösund", 58.6706, 17.1017],
  ["Linköping", 58.4108, 15.6214], ["Norrköping", 58.5877, 16.1924], ["Mjölby", 58.3249, 15.1289],
  ["Motala", 58.5371, 15.0365], ["Finspång", 58.7058, 15.7674], ["Söderköping", 58.4806, 16.3238],
  ["Vadstena", 58.4486, 14.8906],
  ["Jönköping", 57.7826, 14.1618], ["Värnamo", 57.186, 14.04], ["Nässjö", 57.6531, 14.6968],
  ["Tranås", 58.037, 14.9782], ["Vetlanda", 57.4278, 15.0853], ["Eksjö", 57.6664, 14.9709],
  ["Gislaved", 57.304, 13.5399],
  ["Växjö", 56.8777, 14.8091], ["Ljungby", 56.833, 13.941], ["Älmhult", 56.551, 14.1372],
  ["Kalmar", 56.6634, 16.3568], ["Oskarshamn", 57.2645, 16.4484], ["Västervik", 57.7584, 16.6373],
  ["Nybro", 56.7445, 15.9062], ["Vimmerby", 57.6654, 15.8553], ["Borgholm", 56.8797, 16.6558],
  ["Visby", 57.6348, 18.2948], ["Gotland", 57.6348, 18.2948],
  ["Karlskrona", 56.1612, 15.5869], ["Ronneby", 56.2094, 15.276], ["Karlshamn", 56.1703, 14.8619],
  ["Sölvesborg", 56.0505, 14.5756],
  ["Malmö", 55.605, 13.0038], ["Lund", 55.7047, 13.191], ["Helsingborg", 56.0465, 12.6945],
  ["Kristianstad", 56.0294, 14.1567], ["Landskrona", 55.8708, 12.8302], ["Eslöv", 55.8392, 13.3039],
  ["Ystad", 55.4295, 13.82], ["Trelleborg", 55.3751, 13.1569], ["Ängelholm", 56.2428, 12.8622],
  ["Hässleholm", 56.1589, 13.7668], ["Höganäs", 56.1996, 12.5577],
  ["Halmstad", 56.6745, 12.8578], ["Falkenberg", 56.9055, 12.4912], ["Varberg", 57.1056, 12.2508],
  ["Kungsbacka", 57.4872, 12.0761], ["Laholm", 56.5121, 13.0434],
  ["Göteborg", 57.7089, 11.9746], ["Borås", 57.721, 12.9401], ["Mölndal", 57.6554, 12.0138],
  ["Kungälv", 57.8706, 11.9805], ["Partille", 57.7394, 12.1064], ["Lerum", 57.7705, 12.269],
  ["Alingsås", 57.93, 12.5334], ["Uddevalla", 58.3498, 11.9356], ["Trollhättan", 58.2837, 12.2886],
  ["Vänersborg", 58.3807, 12.3234], ["Lidköping", 58.5052, 13.1577], ["Skövde", 58.3903, 13.8461],
  ["Falköping", 58.1742, 13.5506], ["Mariestad", 58.7097, 13.8237], ["Stenungsund", 58.0705, 11.8181],
  ["Strömstad", 58.9395, 11.1712], ["Lysekil", 58.2743, 11.4358], ["Åmål", 59.0512, 12.7041],
  ["Karlstad", 59.3793, 13.5036], ["Kristinehamn", 59.3098, 14.1081], ["Arvika", 59.6553, 12.5852],
  ["Säffle", 59.1326, 12.9303], ["Hagfors", 60.0257, 13.6957], ["Torsby", 60.1342, 12.9956],
  ["Örebro", 59.2753, 15.2134], ["Karlskoga", 59.3267, 14.5239], ["Kumla", 59.1277, 15.1434],
  ["Lindesberg", 59.5939, 15.2304], ["Hallsberg", 59.0664, 15.1098], ["Askersund", 58.8799, 14.9024],
  ["Västerås", 59.6099, 16.5448], ["Sala", 59.9199, 16.6066], ["Köping", 59.514, 15.9926],
  ["Fagersta", 60.0042, 15.7932], ["Arboga", 59.3939, 15.8388],
  ["Falun", 60.6065, 15.6355], ["Borlänge", 60.4858, 15.4371], ["Avesta", 60.1455, 16.1679],
  ["Ludvika", 60.1496, 15.1878], ["Mora", 61.007, 14.543], ["Rättvik", 60.8833, 15.1167],
  ["Leksand", 60.7306, 14.9999], ["Hedemora", 60.2756, 15.9886], ["Vansbro", 60.5106, 14.2268],
  ["Malung", 60.6833, 13.7167],
  ["Gävle", 60.6749, 17.1413], ["Sandviken", 60.6216, 16.7755], ["Söderhamn", 61.3037, 17.0592],
  ["Bollnäs", 61.3482, 16.3946], ["Hudiksvall", 61.7281, 17.1054], ["Ljusdal", 61.8292, 16.091],
  ["Sundsvall", 62.3908, 17.3069], ["Härnösand", 62.6323, 17.9379], ["Örnsköldsvik", 63.2909, 18.7153],
  ["Sollefteå", 63.1667, 17.2667], ["Kramfors", 62.9311, 17.7765], ["Timrå", 62.4869, 17.3258],
  ["Östersund", 63.1792, 14.6357], ["Åre", 63.399, 13.0815], ["Sveg", 62.0346, 14.3658],
  ["Strömsund", 63.8532, 15.5563],
  ["Umeå", 63.8258, 20.263], ["Skellefteå", 64.7507, 20.9528], ["Lycksele", 64.5954, 18.6735],
  ["Vilhelmina", 64.6244, 16.6553], ["Storuman", 65.0962, 17.1126],
  ["Luleå", 65.5848, 22.1567], ["Piteå", 65.3172, 21.4794], ["Boden", 65.8252, 21.6886],
  ["Kiruna", 67.8558, 20.2253], ["Gällivare", 67.1339, 20.6528], ["Haparanda", 65.8355, 24.1368],
  ["Kalix", 65.8538, 23.1563], ["Arvidsjaur", 65.5917, 19.1797], ["Jokkmokk", 66.6066, 19.8229],
];

export const places: Place[] = PLACES.map(([name, lat, lon]) => ({ name, lat, lon })).sort((a, b) =>
  a.name.localeCompare(b.name, "sv"),
);

function fold(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/\s+/g, " ");
}

/** The known places' names, offered as the choices (<datalist>) of a place field. */
export function placesList(id: string): HTMLDataListElement {
  return h("datalist", { id }, ...places.map((p) => h("option", { value: p.name })));
}

/** The place a typed name means ("goteborg", "Göteborg", "  MALMÖ "), or null. */
export function findPlace(typed: string): Place | null {
  const wanted = fold(typed);
  if (!wanted) return null;
  return (
    places.find((p) => fold(p.name) === wanted) ??
    places.find((p) => fold(p.name).startsWith(wanted) && wanted.length >= 3) ??
    null
  );
}

/** The device's position, or null when the user (or the browser) says no. */
export function devicePosition(): Promise<Position | null> {
  if (!("geolocation" in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (position) =>
        resolve({
          lat: Math.round(position.coords.latitude * 1e4) / 1e4,
          lon: Math.round(position.coords.longitude * 1e4) / 1e4,
        }),
      () => resolve(null),
      { enableHighAccuracy: false, timeout: 10_000, maximumAge: 300_000 },
    );
  });
}

/** "Use my position" and its status line ("Using your position. Stop"). `using` says whether the position is
 *  in use now; `choose` records the user's choice: the position, or null when they stop using it. */
export function positionControl(
  using: () => boolean,
  choose: (position: Position | null) => void,
): { element: HTMLElement; show(): void } {
  const status = h("p", { class: "position-status", role: "status" });
  const show = (): void =>
    fill(
      status,
      using()
        ? [
            t("care.using-position"),
            " ",
            button(t("care.stop-position"), {
              class: "link-button",
              onclick: () => {
                choose(null);
                show();
              },
            }),
          ]
        : null,
    );
  const use = button(t("care.use-position"), {
    class: "button button-secondary",
    onclick: async () => {
      use.disabled = true;
      const found = await devicePosition();
      use.disabled = false;
      if (!found) {
        fill(status, t("care.position-denied"));
        return;
      }
      choose(found);
      show();
    },
  });
  return { element: h("div", { class: "field" }, use, status), show };
}

/** A search's `near` and `radius_km`: from the position when given, else from the typed place (none when
 *  nothing is typed); null when the typed place is not one we know. */
export function nearQuery(position: Position | null, typed: string, radiusKm: number): Record<string, string> | null {
  const near = (from: Position) => ({ near: `${from.lat},${from.lon}`, radius_km: String(radiusKm) });
  if (position) return near(position);
  if (!typed.trim()) return {};
  const found = findPlace(typed);
  return found ? near(found) : null;
}
