//! The OpenAPI document is served, valid JSON, generated from the handlers and protocol types.

mod open311_support;

#[tokio::test]
async fn openapi_document_lists_the_standards_routes_and_protocol_schemas() {
    let s = open311_support::start().await;
    let (status, ct, body) = s.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"));
    let doc = open311_support::json(&body);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/open311/v2/{resource}.{format}",
        "/open311/v2/services/{service_code}.{format}",
        "/open311/v2/requests/{service_request_id}.{format}",
        "/open311/v2/tokens/{token}.{format}",
        "/api/v1/exports/requests.{format}",
        "/api/v1/exports/walks/{walk_id}.{format}",
        "/api/v1/admin/connectors/dead-letters",
        "/api/v1/push",
        "/api/v1/feed",
        "/api/v1/incidents/{id}",
        "/api/v1/track/{code}",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    assert!(doc["paths"]["/open311/v2/{resource}.{format}"]["post"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "ErrorBody",
        "PushRequest",
        "FeedPage",
        "Incident",
        "StatusEvent",
        "State",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "missing schema {schema}"
        );
    }
}
