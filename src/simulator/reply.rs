//! Response helpers: HAL/JSON bodies, PingOne's error body and OAuth's.

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

/// An answer whose body is one buffer, before any fault reshapes it.
pub(crate) type Response = hyper::Response<Full<Bytes>>;

/// Content type of successful API answers, as PingOne sends it.
pub(crate) const HAL_JSON: &str = "application/hal+json;charset=UTF-8";
/// Content type of errors and of the token and control endpoints.
pub(crate) const JSON: &str = "application/json";

/// Builds a response with a body and content type.
pub(crate) fn response(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
    let mut resp = hyper::Response::new(Full::new(body.into()));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// A JSON body with `content_type`.
pub(crate) fn json_with(status: u16, content_type: &str, body: &Value) -> Response {
    response(status, content_type, body.to_string())
}

/// A HAL+JSON answer.
pub(crate) fn hal(status: u16, body: &Value) -> Response {
    json_with(status, HAL_JSON, body)
}

/// A plain JSON answer.
pub(crate) fn json(status: u16, body: &Value) -> Response {
    json_with(status, JSON, body)
}

/// PingOne's error body: `{id, code, message, details[]}`. `detail` is an
/// optional `(code, target, message)` entry.
pub(crate) fn error(
    status: u16,
    code: &str,
    message: &str,
    detail: Option<(&str, &str, &str)>,
) -> Response {
    let mut body = json!({"id": super::model::uuid(&mut fastrand::Rng::new()), "code": code, "message": message});
    if let Some((c, target, m)) = detail {
        body["details"] = json!([{"code": c, "target": target, "message": m}]);
    }
    json(status, &body)
}

/// 404 `NOT_FOUND` naming what was not found.
pub(crate) fn not_found(what: &str) -> Response {
    error(404, "NOT_FOUND", &format!("Unable to find {what}"), None)
}

/// 405 with an `Allow` header.
pub(crate) fn method_not_allowed(allow: &str) -> Response {
    let mut r = error(
        405,
        "METHOD_NOT_ALLOWED",
        &format!("Method not allowed; allowed: {allow}"),
        None,
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(allow) {
        r.headers_mut().insert(hyper::header::ALLOW, v);
    }
    r
}

/// 400 `INVALID_DATA` about one request parameter.
pub(crate) fn invalid(target: &str, message: &str) -> Response {
    error(
        400,
        "INVALID_DATA",
        "The request could not be completed. One or more validation errors were in the request.",
        Some(("INVALID_VALUE", target, message)),
    )
}

/// An OAuth 2 error from the token endpoint (RFC 6749 section 5.2).
pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let mut r = json(
        status,
        &json!({"error": error, "error_description": description}),
    );
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    if status == 401 {
        r.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Basic realm=\"PingOne\""),
        );
    }
    r
}
