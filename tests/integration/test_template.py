"""template.yaml is the single description of the system: it must lint, and code and template must agree."""

from __future__ import annotations

import importlib
import re

import pytest

from local_runtime.template import REPO_ROOT, Template

TEMPLATE = Template()


def test_cfn_lint_passes_on_the_template():
    from cfnlint.api import lint_file

    assert [str(match) for match in lint_file(REPO_ROOT / "template.yaml")] == []


@pytest.mark.parametrize("fn", TEMPLATE.functions.values(), ids=lambda f: f.logical_id)
def test_every_function_handler_exists_in_its_code_uri(fn):
    module_name, attribute = fn.handler.rsplit(".", 1)
    module_file = fn.code_uri / (module_name.replace(".", "/") + ".py")
    assert module_file.is_file(), f"{fn.logical_id}: {module_file} is missing"
    assert callable(getattr(importlib.import_module(module_name), attribute))


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.mark.parametrize(
    "fn",
    [f for f in TEMPLATE.functions.values() if any(e["Type"] == "HttpApi" for e in f.events.values())],
    ids=lambda f: f.logical_id,
)
def test_the_template_exposes_exactly_the_routes_the_code_serves(fn):
    app = importlib.import_module(fn.handler.rsplit(".", 1)[0]).app
    served = {(r.method, _normalise(r.openapi_path)) for r in app._static_routes + app._dynamic_routes}
    exposed = {(m, _normalise(p)) for m, p, owner, _ in TEMPLATE.http_routes() if owner == fn.logical_id}
    assert served == exposed


def _statements(fn):
    for policy in fn.properties.get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            yield from policy["Statement"]


@pytest.mark.parametrize("fn", TEMPLATE.functions.values(), ids=lambda f: f.logical_id)
def test_function_policies_name_their_actions_and_resources_without_wildcards(fn):
    assert all(isinstance(p, dict) for p in fn.properties.get("Policies", [])), (
        "managed policies are too broad"
    )
    for statement in _statements(fn):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), statement
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            # Two wildcards are allowed: the end of an S3 key prefix (objects under a bucket's folder), and
            # sns:Publish alone, since an SMS to a phone number has no resource ARN to name.
            text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else str(resource)
            prefix_only = re.fullmatch(r"\$\{\w+Bucket\.Arn\}/[a-z-]+/\*", text) is not None
            sms_only = actions == ["sns:Publish"] and resource == "*"
            assert prefix_only or sms_only or "*" not in str(resource), statement


def test_every_queue_with_a_consumer_has_a_dead_letter_queue_and_reports_partial_failures():
    queues = TEMPLATE.of_type("AWS::SQS::Queue")
    for fn, props in TEMPLATE.sqs_event_sources():
        queue_id = props["Queue"]["Fn::GetAtt"][0]
        assert "RedrivePolicy" in queues[queue_id], f"{queue_id} consumed by {fn} has no DLQ"
        assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], fn


def test_tables_and_queues_are_encrypted_with_the_customer_managed_key():
    for name, props in TEMPLATE.of_type("AWS::DynamoDB::Table").items():
        assert props["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "DataKey"}, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
    for name, props in TEMPLATE.of_type("AWS::SQS::Queue").items():
        assert props["KmsMasterKeyId"] == {"Ref": "DataKey"}, name


def test_functions_run_python_3_13_on_arm64_with_json_logs():
    function_globals = TEMPLATE.data["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["LoggingConfig"]["LogFormat"] == "JSON"


def test_every_function_has_a_log_group_with_retention():
    groups = TEMPLATE.of_type("AWS::Logs::LogGroup").values()
    named = {g["LogGroupName"]["Fn::Sub"] for g in groups if "LogGroupName" in g}
    for fn in TEMPLATE.functions:
        assert f"/aws/lambda/${{{fn}}}" in named, fn
    assert all("RetentionInDays" in g for g in groups)


def test_the_layer_requirements_are_the_locked_runtime_group():
    """layers/shared/requirements.txt is exported from uv.lock by `make lock`; it must not drift by hand."""
    import tomllib

    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    pins = [line.split("==") for line in (REPO_ROOT / "layers/shared/requirements.txt").read_text().split()]
    assert pins
    for name, version in pins:
        assert locked[name] == version, name


def _allowed(fn, resource_logical_id: str) -> set[str]:
    """Actions the function's policy allows on a table (its ARN) or on its indexes (`index:<name>`)."""
    allowed = set()
    for statement in _statements(fn):
        if statement.get("Effect") != "Allow":
            continue
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            if resource in (
                {"Fn::GetAtt": f"{resource_logical_id}.Arn"},
                {"Fn::GetAtt": [resource_logical_id, "Arn"]},
            ):
                allowed |= {a for a in statement["Action"]}
            sub = resource.get("Fn::Sub", "") if isinstance(resource, dict) else ""
            if sub.startswith(f"${{{resource_logical_id}.Arn}}/index/"):
                allowed |= {f"{a}:{sub.rsplit('/', 1)[1]}" for a in statement["Action"]}
    return allowed


PATIENT_FUNCTIONS = sorted({fn for method, path, fn, _ in TEMPLATE.http_routes() if "{patientId}" in path})


@pytest.mark.parametrize("logical_id", PATIENT_FUNCTIONS)
def test_functions_serving_patient_data_may_run_the_access_policy_and_append_to_the_audit_log(logical_id):
    fn = TEMPLATE.functions[logical_id]
    assert {"dynamodb:GetItem", "dynamodb:BatchGetItem"} <= _allowed(fn, "IdentityTable")
    assert {"dynamodb:GetItem", "dynamodb:PutItem"} <= _allowed(fn, "AuditTable")
    environment = fn.environment
    assert {"IDENTITY_TABLE_NAME", "AUDIT_TABLE_NAME", "AUDIT_RETENTION_DAYS"} <= set(environment)


@pytest.mark.parametrize("fn", TEMPLATE.functions.values(), ids=lambda f: f.logical_id)
def test_no_function_may_change_or_delete_an_audit_record(fn):
    forbidden = {
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteTable",
    }
    assert not forbidden & _allowed(fn, "AuditTable")


def test_the_audit_log_outlives_the_stack_and_keeps_records_at_least_five_years():
    resource = TEMPLATE.resources["AuditTable"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    assert resource["Properties"]["DeletionProtectionEnabled"] is True
    assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    parameter = TEMPLATE.data["Parameters"]["AuditRetentionDays"]
    assert parameter["MinValue"] >= 5 * 365 + 1 and parameter["Default"] >= parameter["MinValue"]


# ---------------------------------------------------------------- web client hosting


def _web_policy_statements(logical_id: str) -> list[dict]:
    return TEMPLATE.resources[logical_id]["Properties"]["PolicyDocument"]["Statement"]


_WEB_DISTRIBUTION_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}"
}


def test_the_web_bucket_is_private_and_only_the_web_distribution_may_read_it():
    bucket = TEMPLATE.resources["WebBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # no ACLs
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}

    statements = _web_policy_statements("WebBucketPolicy")
    assert TEMPLATE.resources["WebBucketPolicy"]["Properties"]["Bucket"] == {"Ref": "WebBucket"}
    [grant] = [s for s in statements if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] == "s3:GetObject"
    assert grant["Resource"] == {"Fn::Sub": "${WebBucket.Arn}/*"}
    assert grant["Condition"] == {"StringEquals": {"AWS:SourceArn": _WEB_DISTRIBUTION_ARN}}
    [tls_only] = [s for s in statements if s["Effect"] == "Deny"]
    assert tls_only["Principal"] == "*" and tls_only["Action"] == "s3:*"
    assert tls_only["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    # The distribution reaches the bucket through origin access control, signing every request.
    [origin] = TEMPLATE.resources["WebDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # not the legacy identity
    control = TEMPLATE.resources["WebOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (
        control["OriginAccessControlOriginType"],
        control["SigningBehavior"],
        control["SigningProtocol"],
    ) == (
        "s3",
        "always",
        "sigv4",
    )


def test_the_web_bucket_is_encrypted_with_a_key_only_the_web_distribution_may_decrypt_with():
    [rule] = TEMPLATE.resources["WebBucket"]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    default = rule["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    # The bucket names the key through its alias (naming WebKey would be a dependency cycle): they must agree.
    alias = TEMPLATE.resources["WebKeyAlias"]["Properties"]
    assert alias["TargetKeyId"] == {"Ref": "WebKey"}
    assert default["KMSMasterKeyID"]["Fn::Sub"].endswith(":" + alias["AliasName"]["Fn::Sub"])
    assert default["KMSMasterKeyID"]["Fn::Sub"].startswith("arn:${AWS::Partition}:kms:${AWS::Region}:")

    key = TEMPLATE.resources["WebKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    services = [s for s in key["KeyPolicy"]["Statement"] if "Service" in s["Principal"]]
    assert services == [
        {
            "Sid": "OnlyTheWebDistributionDecrypts",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"AWS:SourceArn": _WEB_DISTRIBUTION_ARN}},
        }
    ]
    # CloudFront gets nothing on the key of the patient data.
    data_key = TEMPLATE.resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert all(s["Principal"].get("Service") != "cloudfront.amazonaws.com" for s in data_key)


def _csp_directives() -> dict[str, list[str]]:
    config = TEMPLATE.resources["WebResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert csp["Override"] is True
    text, _variables = csp["ContentSecurityPolicy"]["Fn::Sub"]
    directives = {}
    for directive in text.split(";"):
        name, *sources = directive.split()
        assert name not in directives, f"{name} twice"
        directives[name] = sources
    return directives


def test_the_web_clients_content_security_policy_is_strict():
    directives = _csp_directives()
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    # connect-src: the app itself, the API's origin (no stage path), the identity providers' origins and the
    # attachments bucket (presigned POST uploads).
    assert directives["connect-src"] == [
        "'self'",
        "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        "https://${ResidentIdpHost}",
        "https://${StaffIdpHost}",
        "https://${AttachmentsBucket}.s3.${AWS::Region}.${AWS::URLSuffix}",
    ]
    every_source = [source for sources in directives.values() for source in sources]
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", "*", "http:"):
        assert unsafe not in every_source
    assert not [s for s in every_source if s.startswith("http://") or "*" in s]


def test_the_web_client_is_served_with_hsts_and_the_other_security_headers():
    config = TEMPLATE.resources["WebResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000,  # two years (the HSTS preload list asks for one at least)
        "IncludeSubdomains": True,
        "Preload": True,
        "Override": True,
    }
    assert security["ContentTypeOptions"] == {"Override": True}  # nosniff
    assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert security["ReferrerPolicy"] == {
        "ReferrerPolicy": "strict-origin-when-cross-origin",
        "Override": True,
    }
    assert config["CustomHeadersConfig"]["Items"] == [
        {
            "Header": "Permissions-Policy",
            "Value": "geolocation=(self), camera=(), microphone=()",
            "Override": True,
        }
    ]
    behaviour = TEMPLATE.resources["WebDistribution"]["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "WebResponseHeadersPolicy"}


def test_the_web_distribution_redirects_to_https_and_serves_the_app_for_its_own_routes():
    config = TEMPLATE.resources["WebDistribution"]["Properties"]["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} == {"redirect-to-https"}
    assert all(b["AllowedMethods"] == ["GET", "HEAD"] for b in behaviours)
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    assert sorted(
        (e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in config["CustomErrorResponses"]
    ) == [(403, 200, "/index.html"), (404, 200, "/index.html")]
    # With a custom domain: its ACM certificate and TLS 1.2 at least; otherwise CloudFront's own certificate.
    condition, custom, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "HasWebDomain"
    assert custom == {
        "AcmCertificateArn": {"Ref": "WebCertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert default == {"CloudFrontDefaultCertificate": True}
    assert config["Aliases"] == {
        "Fn::If": ["HasWebDomain", [{"Ref": "WebDomainName"}], {"Ref": "AWS::NoValue"}]
    }
    # Production may not fall back to the default certificate.
    rule = TEMPLATE.data["Rules"]["ProductionServesTheWebClientOnItsOwnDomain"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebDomainName"}, ""]}]}


def test_the_api_admits_the_web_clients_origin_without_credentials():
    cors = TEMPLATE.resources["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [
        {"Fn::If": ["HasWebDomain", {"Fn::Sub": "https://${WebDomainName}"}, "*"]}
    ]
    assert not cors.get("AllowCredentials", False)
    # Every request header the handlers read, and the response headers the client must see.
    assert {"authorization", "content-type", "idempotency-key", "x-commission-id"} <= set(
        cors["AllowHeaders"]
    )
    assert {"location", "retry-after"} <= set(cors["ExposeHeaders"])
    methods = {m for m, _path, _fn, _props in TEMPLATE.http_routes()}
    assert methods <= set(cors["AllowMethods"])


def test_the_stack_outputs_what_the_web_deploy_needs():
    outputs = TEMPLATE.data["Outputs"]
    assert outputs["WebBucketName"]["Value"] == {"Ref": "WebBucket"}
    assert outputs["WebDistributionId"]["Value"] == {"Ref": "WebDistribution"}
    assert outputs["WebDistributionDomainName"]["Value"] == {"Fn::GetAtt": ["WebDistribution", "DomainName"]}
    assert "ApiUrl" in outputs


def test_the_attachments_bucket_takes_the_web_clients_uploads_and_nothing_else_cross_origin():
    rules = TEMPLATE.resources["AttachmentsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert [rule["AllowedMethods"] for rule in rules] == [["POST"]]
    assert rules[0]["AllowedOrigins"] == [
        {"Fn::If": ["HasWebDomain", {"Fn::Sub": "https://${WebDomainName}"}, "*"]}
    ]
