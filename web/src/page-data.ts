// Reading what a page shows: one thing (a 404 shows the page's own "not found" instead), or a list read page by
// page (a "show more" button while the API has a next_cursor). Loaded with the pages, not the shell.

import { ApiError } from "./api";
import { fill, type Child } from "./dom";
import { button } from "./ui";

/** The API's answer; on a 404 the page shows `missing` instead, and the answer is null. */
export async function orMissing<T>(request: Promise<T>, main: HTMLElement, missing: () => Child[]): Promise<T | null> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      fill(main, ...missing());
      return null;
    }
    throw error;
  }
}

export interface Listing<T> {
  items: T[];
  next_cursor?: string | null;
}

/** Shows a page of a listing in `list`, with "show more" in `more` while there is a next page; after "show
 *  more", focus goes to the first new item's link. `failed` says why a next page could not be read. */
export function pagedList<T>(options: {
  list: HTMLElement;
  more: HTMLElement;
  label: string;
  item: (item: T) => HTMLElement;
  next: (cursor: string) => Promise<Listing<T>>;
  failed?: (error: unknown) => void;
}): (page: Listing<T>) => void {
  const { list, more, label, item, next, failed } = options;
  const show = (page: Listing<T>): void => {
    list.append(...page.items.map(item));
    const cursor = page.next_cursor;
    fill(
      more,
      cursor
        ? button(label, {
            class: "button button-secondary",
            onclick: async () => {
              const before = list.children.length;
              let found: Listing<T>;
              try {
                found = await next(cursor);
              } catch (error) {
                if (!failed) throw error;
                failed(error);
                return;
              }
              show(found);
              list.children[before]?.querySelector("a")?.focus();
            },
          })
        : null,
    );
  };
  return show;
}
