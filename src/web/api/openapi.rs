//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers'
//! `#[utoipa::path]` annotations and the schemas derived on their bodies, and
//! served at `/api/v1/openapi.json`. What every operation shares is added in
//! one place (`Contract`): the error body for each error status and
//! the bearer token on every route the route table marks as signed in (the
//! table hands that in: `web::routes::openapi`). The shapes of answers a
//! handler builds with `json!` are named in `shapes`.

use actix_web::HttpResponse;
use actix_web::http::header;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

use crate::paging::{MAX_PAGE, MAX_PER_PAGE};
use crate::web::errors::ErrorBody;

use super::{auth, households, learning, offline, reports, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fuzhi 扶智",
        description = "The JSON API of fuzhi: digital-skills training for rural households, \
            linked to the poverty-registered household records. Sign in with \
            `POST /api/v1/auth/login` and send the token as `Authorization: Bearer …`."
    ),
    paths(
        auth::login,
        auth::logout,
        auth::reset_request,
        auth::reset,
        auth::me,
        users::list,
        users::create,
        users::import,
        users::get,
        users::update,
        users::set_password,
        learning::courses,
        learning::course,
        learning::lesson,
        learning::quiz,
        learning::enroll_api,
        learning::enrollment_state,
        learning::attempt,
        learning::post_events,
        learning::my_progress,
        learning::signoff,
        learning::create_session,
        learning::attendance,
        learning::certificate,
        learning::revoke,
        users::areas_list,
        users::areas_create,
        users::audit_list,
        households::list,
        households::create,
        households::export,
        households::template,
        households::import,
        households::get,
        households::update,
        households::delete,
        households::history,
        households::follow_up,
        households::income,
        reports::summary,
        reports::export,
        document,
        offline::course_files,
    ),
    components(schemas(ErrorBody, super::shapes::StoredRow)),
    tags(
        (name = "auth", description = "Signing in and out, password resets"),
        (name = "users", description = "Accounts, areas and the audit log"),
        (name = "learning", description = "Courses, lessons, quizzes, progress, classes, certificates"),
        (name = "households", description = "The poverty-registered household records"),
        (name = "reports", description = "The figures of an area and a period"),
        (name = "contract", description = "This document"),
    )
)]
pub struct ApiDoc;

/// The error statuses the document names on every operation, each with the
/// error body (`ErrorBody`). The README's "The JSON API" lists every status
/// the server answers, with its codes.
const ERROR_STATUSES: [(&str, &str); 8] = [
    ("400", "Malformed request: bad JSON, query or body"),
    ("401", "Not signed in, or the token is expired or revoked"),
    (
        "403",
        "Not allowed for this role, or the CSRF token is missing",
    ),
    ("404", "Not found, or outside the caller's area"),
    ("409", "Conflict with what is stored"),
    ("413", "Body too large"),
    (
        "422",
        "Invalid fields or rows; `fields` or `errors` say which and why",
    ),
    (
        "429",
        "Too many attempts; `Retry-After` says when to try again",
    ),
];

/// What every operation shares: error answers and, on signed-in routes
/// (`signed_in(method, path)`), the bearer token.
struct Contract<'a>(&'a dyn Fn(&str, &str) -> bool);

impl Modify for Contract<'_> {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
                ("put", &mut item.put),
            ];
            for (method, op) in ops {
                if let Some(op) = op.as_mut() {
                    complete(op, (self.0)(method, path));
                }
            }
        }
    }
}

fn complete(op: &mut Operation, signed_in: bool) {
    // Handlers of different modules share names (`list`, `get`): the tag
    // makes each operation id unique, as OpenAPI requires.
    if let (Some(tag), Some(id)) = (op.tags.as_ref().and_then(|t| t.first()), &op.operation_id) {
        op.operation_id = Some(format!("{tag}.{id}"));
    }
    if signed_in {
        op.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
    for param in op.parameters.iter_mut().flatten() {
        let bound = match param.name.as_str() {
            "page" => Some((MAX_PAGE, "Page, from 1")),
            "per_page" => Some((MAX_PER_PAGE, "Rows a page (50 when absent)")),
            _ => None,
        };
        if let (Some((max, description)), ParameterIn::Query) = (bound, &param.parameter_in) {
            param.description = Some(description.to_string());
            param.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(1))
                    .maximum(Some(max))
                    .into(),
            );
        }
    }
    for (status, description) in ERROR_STATUSES {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::<Schema>::Ref(
                                utoipa::openapi::Ref::from_schema_name("ErrorBody"),
                            )))
                            .build(),
                    )
                    .build()
                    .into()
            });
    }
}

/// The document, with what every operation shares; `signed_in(method,
/// path)` says which routes ask for the bearer token.
pub fn with_contract(signed_in: &dyn Fn(&str, &str) -> bool) -> Document {
    let mut doc = ApiDoc::openapi();
    Contract(signed_in).modify(&mut doc);
    doc
}

/// The document as served: written once, when the routes are configured
/// (it depends on the code alone).
pub struct Published(String);

impl Published {
    pub fn new(doc: &Document) -> Published {
        Published(doc.to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document cannot be written");
            "{}".to_string()
        }))
    }
}

/// `GET /api/v1/openapi.json`: this document. Public and the same for
/// everyone, so caches may keep it for an hour.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "contract",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object))
)]
pub async fn document(doc: actix_web::web::Data<Published>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(doc.0.clone())
}
