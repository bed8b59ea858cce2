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
        "/open311/v2/media/{service_request_id}/{sha256}",
        "/api/v1/health",
        "/api/v1/uploads",
        "/api/v1/uploads/{id}",
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
        doc["paths"]["/api/v1/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/Health"
    );
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

/// The tus upload routes are in the document with their headers and every status they answer.
#[tokio::test]
async fn openapi_document_describes_the_tus_upload_routes() {
    let s = open311_support::start().await;
    let (status, _, body) = s.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let doc = open311_support::json(&body);
    let uploads = &doc["paths"]["/api/v1/uploads"];
    let upload = &doc["paths"]["/api/v1/uploads/{id}"];
    // (operation, request headers, statuses, headers of the success answer)
    type Row<'a> = (
        &'a serde_json::Value,
        &'a [&'a str],
        &'a [&'a str],
        &'a [&'a str],
    );
    let table: [Row; 5] = [
        (
            &uploads["options"],
            &[],
            &["204"],
            &[
                "Tus-Version",
                "Tus-Extension",
                "Tus-Checksum-Algorithm",
                "Tus-Max-Size",
                "Tus-Resumable",
            ],
        ),
        (
            &uploads["post"],
            &["Tus-Resumable", "Upload-Length", "Upload-Metadata"],
            &["201", "400", "401", "403", "412", "413", "415"],
            &["Location", "Upload-Offset", "Tus-Resumable"],
        ),
        (
            &upload["head"],
            &["Tus-Resumable"],
            &["200", "400", "401", "404", "412"],
            &[
                "Upload-Offset",
                "Upload-Length",
                "Cache-Control",
                "Tus-Resumable",
            ],
        ),
        (
            &upload["patch"],
            &["Tus-Resumable", "Upload-Offset", "Upload-Checksum"],
            &[
                "204", "400", "401", "404", "409", "412", "413", "415", "460",
            ],
            &["Upload-Offset", "Tus-Resumable"],
        ),
        (
            &upload["delete"],
            &["Tus-Resumable"],
            &["204", "400", "401", "404", "412"],
            &["Tus-Resumable"],
        ),
    ];
    for (operation, request_headers, statuses, answer_headers) in table {
        assert!(operation.is_object(), "missing operation in {body}");
        let id = operation["operationId"].as_str().unwrap();
        let params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for name in request_headers {
            assert!(
                params
                    .iter()
                    .any(|p| p["in"] == "header" && p["name"] == *name),
                "{id}: header {name}"
            );
        }
        let responses = operation["responses"].as_object().unwrap();
        let mut documented: Vec<&str> = responses.keys().map(String::as_str).collect();
        documented.sort();
        assert_eq!(documented, statuses.to_vec(), "{id}");
        let success = &responses[statuses[0]]["headers"];
        for name in answer_headers {
            assert!(success[*name].is_object(), "{id}: answer header {name}");
        }
        if id != "upload_options" {
            assert_eq!(
                operation["security"][0]["bearer"],
                serde_json::json!([]),
                "{id}"
            );
            assert_eq!(
                responses["412"]["headers"]["Tus-Version"]["description"], "1.0.0",
                "{id}"
            );
        }
    }
    assert_eq!(
        upload["patch"]["requestBody"]["content"]["application/offset+octet-stream"]["schema"],
        serde_json::json!({"type": "string", "format": "binary"})
    );
    let tus_resumable = uploads["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Tus-Resumable")
        .unwrap();
    assert_eq!(tus_resumable["required"], true);
    assert_eq!(tus_resumable["schema"]["pattern"], "^1\\.0\\.0$");
}
