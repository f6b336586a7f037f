"""The error model (issue 9, point 1): one mapping from the core's errors to Python exceptions, which
keep the Elasticsearch type (``es_type``), status and error body."""

from __future__ import annotations

import json

import pytest

import escache
from escache import errors

# (class, built-in, es_type, status) of every class escache raises.
CLASSES = [
    (errors.IllegalArgumentError, ValueError, "illegal_argument_exception", 400),
    (errors.IllegalArgumentTypeError, TypeError, "illegal_argument_exception", 400),
    (errors.ActionRequestValidationError, ValueError, "action_request_validation_exception", 400),
    (errors.ParseError, ValueError, "parse_exception", 400),
    (errors.KeyTypeError, TypeError, "illegal_argument_exception", 400),
    (errors.SecurityError, PermissionError, "security_exception", 403),
    (errors.ResourceNotFoundError, LookupError, "resource_not_found_exception", 404),
    (errors.UnknownNodeError, KeyError, "resource_not_found_exception", 404),
    (errors.IllegalStateError, RuntimeError, "illegal_state_exception", 500),
    (errors.ReentrantCallError, RuntimeError, "illegal_state_exception", 500),
    (errors.BrokenStateError, RuntimeError, "illegal_state_exception", 500),
    (errors.ExecutionError, RuntimeError, "execution_exception", 500),
    (errors.NodeUnavailableError, RuntimeError, "node_not_connected_exception", 500),
    (errors.ElasticsearchError, RuntimeError, "exception", 500),
    (errors.ServiceTokensToolError, ValueError, "user_exception", 400),
    (errors.MissingDependencyError, ImportError, "exception", 500),
]


@pytest.mark.parametrize(("cls", "builtin", "es_type", "status"), CLASSES)
def test_every_class_is_an_escache_error_with_its_type_and_status(cls, builtin, es_type, status):
    assert issubclass(cls, errors.EscacheError) and issubclass(cls, builtin)
    assert (cls.es_type, cls.status, cls.body) == (es_type, status, None)
    assert cls.__name__ in errors.__all__ and getattr(escache, cls.__name__) is cls


def test_every_400_is_an_illegal_argument_error_and_every_illegal_state_one_class():
    for cls in (errors.ActionRequestValidationError, errors.ParseError, errors.IllegalArgumentTypeError):
        assert issubclass(cls, errors.IllegalArgumentError)
    for cls in (errors.ReentrantCallError, errors.BrokenStateError):
        assert issubclass(cls, errors.IllegalStateError)
    assert issubclass(errors.UnknownNodeError, errors.ResourceNotFoundError)


def test_a_node_refusing_to_start_raises_illegal_state_with_status_and_body():
    # F3: a service_tokens line without ':' stops the node from starting: Elasticsearch's
    # IllegalStateException, a 500. Before issue 9 this surfaced as an IllegalArgumentError.
    cluster = escache.Cluster(nodes=2, seed=1)
    node = cluster.node("node-1")
    node.service_tokens_file = "elastic/fleet-server/t1 no-colon-s3cr3t-value\n"
    node.stop()
    with pytest.raises(errors.IllegalStateError) as info:
        node.start()
    e = info.value
    assert isinstance(e, RuntimeError) and not isinstance(e, errors.IllegalArgumentError)
    assert str(e) == "Missing ':' character at line #1"
    assert (e.es_type, e.status) == ("illegal_state_exception", 500)
    cause = {"type": "illegal_state_exception", "reason": "Missing ':' character at line #1"}
    assert e.body == {"error": {"root_cause": [cause], **cause}, "status": 500}
    # Nothing changed: the node is still stopped, and the line's text is in no part of the error.
    assert not node.running
    assert "s3cr3t" not in str(e) + json.dumps(e.body) + repr(e)
    # The class keeps its defaults for other instances.
    assert errors.IllegalStateError.body is None


def test_an_undecodable_service_tokens_file_keeps_its_cause_in_the_body():
    cluster = escache.Cluster(nodes=1, seed=1)
    node = cluster.node("node-0")
    node.service_tokens_file = b"elastic/fleet-server/t1:\xff\xfe\n"
    node.stop()
    with pytest.raises(errors.IllegalStateError) as info:
        node.start()
    e = info.value
    assert str(e) == "Failed to load service_tokens file [config/service_tokens]"
    error = e.body["error"]
    # The decoder's MalformedInputException is not an ElasticsearchException: the outer exception is
    # the root cause, and the cause is rendered under caused_by.
    assert error["root_cause"] == [{"type": "illegal_state_exception", "reason": str(e)}]
    assert error["caused_by"] == {"type": "malformed_input_exception", "reason": "Input length = 1"}
    assert e.body["status"] == 500


def test_a_bad_setting_is_an_illegal_argument_error_with_its_body():
    with pytest.raises(errors.IllegalArgumentError) as info:
        escache.Cluster(nodes=1, settings={"xpack.security.authc.api_key.cache.max_keys": "many"})
    e = info.value
    assert (e.es_type, e.status) == ("illegal_argument_exception", 400)
    assert e.body["error"]["type"] == "illegal_argument_exception"
    assert e.body["error"]["reason"] == str(e)
    assert e.body["status"] == 400


def test_a_bad_time_value_raises_as_elasticsearch_does():
    # TimeValue.parseTimeValue throws an IllegalArgumentException: the same type, status and body.
    with pytest.raises(errors.IllegalArgumentError) as info:
        escache.parse_time_value("5 minutes", "ttl")
    e = info.value
    assert (e.es_type, e.status) == ("illegal_argument_exception", 400)
    assert e.body == {
        "error": {
            "root_cause": [{"type": "illegal_argument_exception", "reason": str(e)}],
            "type": "illegal_argument_exception",
            "reason": str(e),
        },
        "status": 400,
    }


def test_escache_own_errors_have_no_body():
    cluster = escache.Cluster(nodes=1, seed=1)
    with pytest.raises(errors.UnknownNodeError) as info:
        cluster.node("node-9")
    assert isinstance(info.value, errors.ResourceNotFoundError) and isinstance(info.value, KeyError)
    assert (str(info.value), info.value.status, info.value.body) == ("unknown node [node-9]", 404, None)
    with pytest.raises(errors.ServiceTokensToolError) as tool:
        cluster.node("node-0").service_tokens.create("elastic/nobody", "t1")
    assert tool.value.exit_code == 67 and tool.value.body is None
    cluster.node("node-0").stop()
    with pytest.raises(errors.IllegalArgumentError, match="every node is stopped"):
        cluster.perform_request("GET", "/")
