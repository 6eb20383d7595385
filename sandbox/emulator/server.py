"""Run the sandbox's AWS emulator: moto's server plus the fixes in ``patches``.

    python -m sandbox.emulator.server --host 127.0.0.1 --port 5000 [--request-log FILE]

Clients reach it through ``AWS_ENDPOINT_URL=http://127.0.0.1:5000``.
"""

import argparse
import os
import signal
import sys

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class SandboxApplication:
    """Routes ``/_sandbox/`` to the admin handler and everything else to moto.

    A presigned request (credentials in the query string, as in an EKS token) gets the Authorization
    header moto reads its service and caller from (``presign.authorization_from_query``).
    """

    def __init__(self, moto_app, request_log=None, catalogue_cache=True):
        from . import admin, catalogue_cache as cache, oplog, pod_identity

        self._admin = admin
        self._moto = moto_app

        def aws(environ, start_response):
            # EKS Auth (AssumeRoleForPodIdentity), which moto lacks, beside moto's services.
            if pod_identity.is_request(environ):
                return pod_identity.handle(environ, start_response)
            return moto_app(environ, start_response)

        if catalogue_cache:
            aws = cache.CatalogueCacheMiddleware(aws)
        self._aws = oplog.RequestLogMiddleware(aws, request_log) if request_log else aws

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        from . import presign

        presign.authorization_from_query(environ)
        if path.startswith(self._admin.PREFIX):
            return self._admin.handle(environ, start_response)
        if path.startswith("/moto-api"):
            return self._moto(environ, start_response)
        return self._aws(environ, start_response)


def build_app(request_log_path=None, catalogue_cache=True):
    """Configure moto, apply the patches, and return the WSGI application."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    from . import oplog, patches

    patches.apply()
    log = oplog.RequestLog(request_log_path) if request_log_path else None
    return SandboxApplication(DomainDispatcherApplication(create_backend_app), log, catalogue_cache)


def warm_up():
    """Build the default account's IAM backend now (it loads ~1,400 managed policies)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    iam_backends[DEFAULT_ACCOUNT_ID]["global"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--request-log", help="append one JSON line per AWS request here")
    parser.add_argument(
        "--ec2-prices", help="karpenter-provider-aws's zz_generated.pricing_aws.go: fleets launch the cheapest type"
    )
    parser.add_argument(
        "--no-catalogue-cache",
        action="store_true",
        help="render EC2's instance-type and spot-price reads afresh each time, as moto alone does",
    )
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK_HOSTS:
        parser.error("--host must be a loopback address ({})".format(", ".join(LOOPBACK_HOSTS)))
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    app = build_app(args.request_log, catalogue_cache=not args.no_catalogue_cache)
    if args.ec2_prices:
        from . import ec2_fleet

        ec2_fleet.load_prices(args.ec2_prices)
    warm_up()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(
        args.host,
        args.port,
        app,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
