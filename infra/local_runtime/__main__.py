"""`make run`: start the local runtime in the foreground; Ctrl-C stops it."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from local_runtime.runtime import LocalRuntime


def _print_banner(runtime: LocalRuntime, seconds: float) -> None:
    base = runtime.base_url
    print(
        f"""
Open e-services, local runtime (started in {seconds:.1f} s)

  API                {base}                e.g. curl '{base}/v1/clinics?q=vardcentral&limit=3'
  Health             {base}/health
  Login page         {base}/dev/login       pick a demo identity, get a token
  Demo identities    {base}/dev/identities
  Sent SMS, e-mail   {base}/dev/notifications   (captured: nothing leaves the machine)
  Resident IdP       {base}/dev/idp/resident/.well-known/openid-configuration
  Staff IdP          {base}/dev/idp/staff/.well-known/openid-configuration
  AWS endpoint       {runtime.aws_url}      (moto; AWS_ENDPOINT_URL={runtime.aws_url} with any credentials)
  Booking systems    {runtime.scheduling_url}   (a simulated clinic booking system, crm:scheduling)

  Resident token:    curl -s -X POST {base}/dev/idp/resident/token -d '{{"personnummer": "<from /dev/identities>"}}'
  Demo clinics are arriving through the HSA feed queue; Ctrl-C stops everything.
""",
        flush=True,
    )


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    started = time.perf_counter()
    runtime = LocalRuntime(
        port=int(os.environ.get("PORT", "3000")), aws_port=int(os.environ.get("AWS_PORT", "4566"))
    )
    stop = threading.Event()
    # Ctrl-C must stop the runtime even where SIGINT arrives ignored (started from a script's background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        runtime.start()
        _print_banner(runtime, time.perf_counter() - started)
        runtime.wait_until_loaded()
        print(f"Demo data loaded ({time.perf_counter() - started:.1f} s after start).", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(
            f"cannot start: {error} (is something else on port {runtime.port} or {runtime.aws_port}? "
            "Set PORT and AWS_PORT.)",
            file=sys.stderr,
        )
        return 1
    finally:
        print("stopping...", flush=True)
        runtime.stop()
        print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
