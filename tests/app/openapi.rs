//! The OpenAPI document: generated from the handlers, served publicly at
//! `/api/v1/openapi.json`, and complete: every API route of `ROUTES` is in it
//! with its method, every operation answers errors with the error body, and
//! signed-in routes ask for the bearer token.

use std::collections::BTreeSet;

use fuzhi::web::routes::{Access, ROUTES};
use serde_json::Value;

use crate::engine_test;
use crate::helpers::TestApp;

fn document() -> Value {
    serde_json::to_value(fuzhi::web::routes::openapi()).unwrap()
}

/// `(method, path)` of every operation of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

#[test]
fn every_api_route_is_in_the_document() {
    let doc = document();
    let ops = operations(&doc);
    let mut missing = Vec::new();
    for (method, path, _) in ROUTES {
        if path.starts_with("/api/") && !ops.contains(&(method.to_string(), path.to_string())) {
            missing.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(
        missing.is_empty(),
        "API routes missing from the OpenAPI document: {missing:?}"
    );
    // And nothing in it that the server does not route.
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let stale: Vec<_> = ops.difference(&routed).collect();
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");
}

#[test]
fn every_operation_documents_its_errors_and_its_security() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error"]));
    for (method, path, access) in ROUTES.iter().filter(|r| r.1.starts_with("/api/")) {
        let op = &doc["paths"][path][method];
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path}: no success answer"
        );
        for status in ["400", "401", "403", "404", "409", "413", "422", "429"] {
            assert_eq!(
                responses[status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}: {status} is not the error body"
            );
        }
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["name"] == "page" || param["name"] == "per_page" {
                let max = if param["name"] == "page" {
                    1_000_000
                } else {
                    200
                };
                assert_eq!(param["schema"]["minimum"], 1, "{method} {path}");
                assert_eq!(param["schema"]["maximum"], max, "{method} {path}");
            }
        }
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(
            secured,
            *access == Access::SignedIn,
            "{method} {path}: security does not match its access"
        );
        if *method == "post" || *method == "patch" {
            let takes_body = op.get("requestBody").is_some();
            let bodiless = ["/api/v1/auth/logout"];
            assert!(
                takes_body || bodiless.contains(path),
                "{method} {path}: no request body documented"
            );
        }
    }
}

#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut seen = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap().to_string();
            assert!(
                seen.insert(id.clone()),
                "{method} {path}: operation id {id} twice"
            );
        }
    }
}

async fn the_document_is_served_publicly_and_cacheably(app: TestApp) {
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let cache = h["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("public") && cache.contains("max-age="),
        "{cache}"
    );
    let served: Value = res.json().await.unwrap();
    assert_eq!(served, document());
    assert!(served["paths"]["/api/v1/households/{id}"]["patch"].is_object());
}
engine_test!(the_document_is_served_publicly_and_cacheably);
