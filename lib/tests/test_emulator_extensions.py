"""The local emulator does what AWS does where moto does not (cruddur_kit.local.emulator), over HTTP:

- Cognito USER_SRP_AUTH (Amplify's default sign-in) checks the password: a wrong one is
  NotAuthorizedException "Incorrect username or password." (moto signed anyone in). The client side is
  pycognito's, an implementation of the SRP math independent of ours;
- DynamoDB TransactWriteItems honours ClientRequestToken: the same token and request again succeed without
  writing again; the same token with another request is IdempotentParameterMismatchException; a token whose
  request failed is not used up; after the window it is new.
"""

from __future__ import annotations

import io
import json
import uuid

import boto3
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from cruddur_kit import cognito, ddb
from cruddur_kit.local.emulator.dynamodb_idempotency import TARGET, IdempotentTransactions

EMAIL = "srp-user@example.com"


def client(aws_env, service):
    return boto3.client(
        service,
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        region_name=aws_env["AWS_DEFAULT_REGION"],
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def srp_user(aws_env, cognito_pool):
    idp = client(aws_env, "cognito-idp")
    cognito.ensure_user(idp, cognito_pool, "srpuser", EMAIL, "SRP User")
    return idp


def sign_in(idp, pool, password: str) -> dict:
    return AWSSRP(
        username=EMAIL, password=password, pool_id=pool.pool_id, client_id=pool.client_id, client=idp
    ).authenticate_user()


def test_srp_with_the_right_password_gets_tokens_signed_by_the_pool(srp_user, cognito_pool, aws_env):
    tokens = sign_in(srp_user, cognito_pool, cognito.DEMO_PASSWORD)["AuthenticationResult"]
    keys = jwt.PyJWKClient(f"{aws_env['AWS_ENDPOINT_URL']}/{cognito_pool.pool_id}/.well-known/jwks.json")
    claims = jwt.decode(
        tokens["AccessToken"],
        keys.get_signing_key_from_jwt(tokens["AccessToken"]).key,
        algorithms=["RS256"],
        options={"verify_aud": False},
    )
    assert claims["token_use"] == "access" and claims["client_id"] == cognito_pool.client_id


@pytest.mark.parametrize(
    "password", ["Wrong-Password-1", cognito.DEMO_PASSWORD + "x", "", cognito.DEMO_PASSWORD.lower()]
)
def test_srp_with_a_wrong_password_is_not_authorized(srp_user, cognito_pool, password):
    with pytest.raises(ClientError) as e:
        sign_in(srp_user, cognito_pool, password)
    assert e.value.response["Error"] == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


def test_an_answer_counts_once_and_a_forged_secret_block_is_refused(srp_user, cognito_pool):
    srp = AWSSRP(
        username=EMAIL,
        password=cognito.DEMO_PASSWORD,
        pool_id=cognito_pool.pool_id,
        client_id=cognito_pool.client_id,
        client=srp_user,
    )
    challenge = srp_user.initiate_auth(
        ClientId=cognito_pool.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
    )
    answer = srp.process_challenge(challenge["ChallengeParameters"], srp.get_auth_params())
    respond = lambda responses: srp_user.respond_to_auth_challenge(  # noqa: E731
        ClientId=cognito_pool.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
    )
    forged = {**answer, "PASSWORD_CLAIM_SECRET_BLOCK": "Zm9yZ2Vk"}
    with pytest.raises(ClientError, match="NotAuthorizedException"):
        respond(forged)
    assert "AccessToken" in respond(answer)["AuthenticationResult"]
    with pytest.raises(ClientError, match="NotAuthorizedException"):  # the same answer again: a replay
        respond(answer)


def test_an_srp_a_of_zero_is_refused(srp_user, cognito_pool):
    with pytest.raises(ClientError, match="InvalidParameterException"):
        srp_user.initiate_auth(
            ClientId=cognito_pool.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters={"USERNAME": EMAIL, "SRP_A": "0"}
        )


def test_password_auth_still_checks_the_password(srp_user, cognito_pool):
    assert cognito.access_token(srp_user, cognito_pool, EMAIL)
    with pytest.raises(Exception, match="refused the password"):
        cognito.access_token(srp_user, cognito_pool, EMAIL, "Wrong-Password-1")


# --- DynamoDB ClientRequestToken ------------------------------------------------------------------------------


@pytest.fixture
def table(aws_env):
    dynamodb = client(aws_env, "dynamodb")
    name = f"idempotency-{uuid.uuid4().hex[:8]}"
    ddb.ensure_table(dynamodb, name)
    yield dynamodb, name
    dynamodb.delete_table(TableName=name)


def add_one(dynamodb, table, token, item="COUNTER", condition=None):
    update = {
        "TableName": table,
        "Key": {"pk": {"S": item}, "sk": {"S": item}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if condition:
        update["ConditionExpression"] = condition
    return dynamodb.transact_write_items(TransactItems=[{"Update": update}], ClientRequestToken=token)


def count(dynamodb, table, item="COUNTER") -> int:
    found = dynamodb.get_item(TableName=table, Key={"pk": {"S": item}, "sk": {"S": item}}, ConsistentRead=True)
    return int(found.get("Item", {}).get("n", {}).get("N", 0))


def test_the_same_token_and_request_succeed_again_without_writing_again(table):
    dynamodb, name = table
    token = str(uuid.uuid4())
    first = add_one(dynamodb, name, token)
    again = add_one(dynamodb, name, token)
    assert count(dynamodb, name) == 1
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert again["ResponseMetadata"]["RequestId"] != first["ResponseMetadata"]["RequestId"]
    add_one(dynamodb, name, str(uuid.uuid4()))  # another token is another request
    assert count(dynamodb, name) == 2


def test_the_same_token_with_another_request_is_a_mismatch(table):
    dynamodb, name = table
    token = str(uuid.uuid4())
    add_one(dynamodb, name, token)
    with pytest.raises(ClientError) as e:
        add_one(dynamodb, name, token, item="OTHER")
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert count(dynamodb, name) == 1 and count(dynamodb, name, "OTHER") == 0


def test_a_token_whose_request_failed_is_not_used_up(table):
    dynamodb, name = table
    token = str(uuid.uuid4())
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        add_one(dynamodb, name, token, condition="attribute_exists(pk)")  # no counter yet: cancelled
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "COUNTER"}, "sk": {"S": "COUNTER"}, "n": {"N": "0"}})
    add_one(dynamodb, name, token, condition="attribute_exists(pk)")  # the same request now applies
    assert count(dynamodb, name) == 1


def test_the_token_is_new_again_after_the_window():
    """The 10-minute window, on a clock of our own (the middleware over a stand-in that counts writes)."""
    writes, now = [], [1000.0]

    def backend(environ, start_response):
        writes.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
        return [b"{}"]

    app = IdempotentTransactions(backend, window=600, clock=lambda: now[0])
    body = json.dumps(
        {"TransactItems": [{"Put": {"TableName": "t", "Item": {}}}], "ClientRequestToken": "tok"}
    ).encode()

    def send():
        environ = {
            "HTTP_X_AMZ_TARGET": TARGET,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/",
        }
        return b"".join(app(environ, lambda status, headers: None))

    send()
    now[0] += 599
    send()
    assert len(writes) == 1
    now[0] += 2  # 601 s after the first completed
    send()
    assert len(writes) == 2


# -- ECR: digests and re-pushed tags, as ECR keeps them (cruddur_kit.local.emulator.ecr_digests) ---------------


def _manifest(config_digest: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7,
                "digest": config_digest,
            },
            "layers": [],
        }
    )


def test_an_image_digest_is_the_sha256_of_its_manifest_and_a_re_pushed_tag_leaves_the_old_image(aws_env):
    import hashlib

    ecr = client(aws_env, "ecr")
    repo = f"digests-{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=repo)
    first, second = _manifest("sha256:" + "1" * 64), _manifest("sha256:" + "2" * 64)
    ecr.put_image(repositoryName=repo, imageManifest=first, imageTag="v1")
    [old] = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1"}])["imageDetails"]
    assert old["imageDigest"] == "sha256:" + hashlib.sha256(first.encode()).hexdigest()

    ecr.put_image(repositoryName=repo, imageManifest=second, imageTag="v1")  # the tag moves to another build
    [new] = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1"}])["imageDetails"]
    assert new["imageDigest"] == "sha256:" + hashlib.sha256(second.encode()).hexdigest() != old["imageDigest"]
    [kept] = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": old["imageDigest"]}])["imageDetails"]
    assert kept.get("imageTags", []) == []  # still there, untagged, for the lifecycle policy to expire
    untagged = ecr.list_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageIds"]
    assert [i["imageDigest"] for i in untagged] == [old["imageDigest"]]

    ecr.create_repository(repositoryName=repo + "-immutable", imageTagMutability="IMMUTABLE")
    ecr.put_image(repositoryName=repo + "-immutable", imageManifest=first, imageTag="v1")
    with pytest.raises(ClientError, match="ImageAlreadyExistsException|ImageTagAlreadyExistsException"):
        ecr.put_image(repositoryName=repo + "-immutable", imageManifest=second, imageTag="v1")
