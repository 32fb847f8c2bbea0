//! Every route of fuzhi, in one place. The table is also data (`ROUTES`), so
//! the authorization matrix test can insist on a row for every route.

use actix_web::{HttpResponse, web};

use super::{api, pages};
use crate::error::AppError;

/// Who may reach a route without signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    SignedIn,
}

macro_rules! routes {
    ($( $method:ident $path:literal $access:ident => $handler:path ;)*) => {
        /// `(method, path, access)` of every route.
        pub const ROUTES: &[(&str, &str, Access)] = &[
            $( (stringify!($method), $path, Access::$access) ),*
        ];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            cfg.app_data(web::Data::new(api::openapi::Published::new(&openapi())));
            $( cfg.route($path, web::$method().to($handler)); )*
            cfg.default_service(web::to(|| async { Err::<HttpResponse, _>(AppError::NotFound) }));
        }
    };
}

/// The OpenAPI document, the bearer token asked for on every route the
/// table marks as signed in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::openapi::with_contract(&|method, path| {
        ROUTES
            .iter()
            .any(|(m, p, a)| *m == method && *p == path && *a == Access::SignedIn)
    })
}

routes! {
    get  "/healthz"                          Public   => api::health::healthz;
    get  "/static/{file}"                    Public   => pages::home::asset;
    get  "/favicon.ico"                      Public   => pages::home::favicon;
    get  "/"                                 Public   => pages::home::home;
    get  "/login"                            Public   => pages::auth::login_form;
    post "/login"                            Public   => pages::auth::login_submit;
    post "/logout"                           SignedIn => pages::auth::logout;
    get  "/reset-request"                    Public   => pages::reset::request_form;
    post "/reset-request"                    Public   => pages::reset::request_submit;
    get  "/reset"                            Public   => pages::reset::reset_form;
    post "/reset"                            Public   => pages::reset::reset_submit;
    get  "/courses/{slug}"                   SignedIn => pages::learn::course_page;
    post "/courses/{slug}/enroll"            SignedIn => pages::learn::enroll_self;
    post "/courses/{slug}/skip-pre"          SignedIn => pages::learn::skip_pre;
    get  "/courses/{slug}/lessons/{lesson}"  SignedIn => pages::learn::lesson_page;
    post "/courses/{slug}/lessons/{lesson}/done" SignedIn => pages::learn::lesson_done;
    get  "/courses/{slug}/quiz/{quiz}"       SignedIn => pages::learn::quiz_page;
    post "/courses/{slug}/quiz/{quiz}"       SignedIn => pages::learn::quiz_submit;
    get  "/me"                               SignedIn => pages::learn::me;
    get  "/learners/{id}/courses"            SignedIn => pages::enrollment::list;
    get  "/learners/{id}/courses/{slug}"     SignedIn => pages::enrollment::confirm;
    post "/learners/{id}/courses/{slug}"     SignedIn => pages::enrollment::change;
    get  "/certificates"                     Public   => pages::learn::verify_form;
    get  "/certificates/{code}"              Public   => pages::learn::certificate_page;
    get  "/c/{slug}/{version}/media/{file}"  Public   => pages::learn::media;
    get  "/teach/learners"                   SignedIn => pages::teach::learners;
    post "/teach/learners"                   SignedIn => pages::teach::learners_post;
    post "/teach/learners/enroll"            SignedIn => pages::teach::enroll_cohort;
    get  "/teach/signoff"                    SignedIn => pages::teach::signoff_form;
    post "/teach/signoff"                    SignedIn => pages::teach::signoff_submit;
    get  "/teach/signoff/bulk"               SignedIn => pages::teach::bulk_course;
    post "/teach/signoff/bulk"               SignedIn => pages::teach::bulk_submit;
    get  "/teach/classes"                    SignedIn => pages::teach::classes_page;
    post "/teach/classes"                    SignedIn => pages::teach::class_create;
    get  "/teach/classes/{id}"               SignedIn => pages::teach::roster;
    post "/teach/classes/{id}"               SignedIn => pages::teach::roster_save;
    get  "/teach/classes/{id}/signoff"       SignedIn => pages::teach::bulk_class;
    get  "/teach/classes/{id}/slips"         SignedIn => pages::teach::slips;
    get  "/teach/courses"                    SignedIn => pages::authoring::courses_list;
    get  "/teach/courses/new"                SignedIn => pages::authoring::course_new;
    post "/teach/courses"                    SignedIn => pages::authoring::course_create;
    get  "/teach/courses/{slug}"             SignedIn => pages::authoring::course_edit;
    post "/teach/courses/{slug}"             SignedIn => pages::authoring::course_update;
    post "/teach/courses/{slug}/lessons"     SignedIn => pages::authoring::lesson_add;
    get  "/teach/courses/{slug}/lessons/{lesson}" SignedIn => pages::authoring::lesson_edit;
    post "/teach/courses/{slug}/lessons/{lesson}" SignedIn => pages::authoring::lesson_save;
    post "/teach/courses/{slug}/lessons/{lesson}/move" SignedIn => pages::authoring::lesson_move;
    get  "/teach/courses/{slug}/quizzes/{quiz}" SignedIn => pages::authoring::quiz_edit;
    post "/teach/courses/{slug}/quizzes/{quiz}" SignedIn => pages::authoring::quiz_save;
    get  "/teach/courses/{slug}/tasks"       SignedIn => pages::authoring::tasks_edit;
    post "/teach/courses/{slug}/tasks"       SignedIn => pages::authoring::tasks_save;
    get  "/teach/courses/{slug}/items"       SignedIn => pages::authoring::items_page;
    get  "/teach/courses/{slug}/items/export" SignedIn => pages::authoring::items_export;
    get  "/teach/courses/{slug}/publish"     SignedIn => pages::authoring::publish_confirm;
    post "/teach/courses/{slug}/publish"     SignedIn => pages::authoring::publish;
    get  "/teach/courses/{slug}/preview"     SignedIn => pages::authoring::preview;
    post "/teach/courses/{slug}/quizzes/{quiz}/batch" SignedIn => pages::authoring::quiz_batch;
    get  "/teach/courses/{slug}/archive"     SignedIn => pages::authoring::archive_confirm;
    post "/teach/courses/{slug}/archive"     SignedIn => pages::authoring::archive;
    get  "/admin"                            SignedIn => pages::admin::landing;
    get  "/teach"                            SignedIn => pages::teach::home;
    get  "/office"                           SignedIn => pages::office::home;
    get  "/office/follow-ups"                SignedIn => pages::office::follow_ups_due;
    get  "/admin/users"                      SignedIn => pages::admin::users_list;
    get  "/admin/users/new"                  SignedIn => pages::admin::user_new;
    post "/admin/users"                      SignedIn => pages::admin::user_create;
    get  "/admin/users/import"               SignedIn => pages::admin::users_import_form;
    post "/admin/users/import"               SignedIn => pages::admin::users_import;
    get  "/admin/users/{id}"                 SignedIn => pages::admin::user_show;
    post "/admin/users/{id}"                 SignedIn => pages::admin::user_update;
    post "/admin/users/{id}/password"        SignedIn => pages::admin::user_password;
    get  "/admin/audit"                      SignedIn => pages::admin::audit_list;
    get  "/admin/mail"                       SignedIn => pages::admin::mail_list;
    post "/admin/mail/{id}/retry"            SignedIn => pages::admin::mail_retry;
    get  "/admin/areas"                      SignedIn => pages::admin::areas_page;
    post "/admin/areas"                      SignedIn => pages::admin::area_create;
    post "/admin/areas/{code}"               SignedIn => pages::admin::area_update;
    get  "/office/households"                SignedIn => pages::households::list;
    post "/office/households"                SignedIn => pages::households::create;
    get  "/office/households/new"            SignedIn => pages::households::new_form;
    get  "/office/households/import"         SignedIn => pages::households::import_form;
    post "/office/households/import"         SignedIn => pages::households::import;
    post "/office/households/import/confirm" SignedIn => pages::households::import_confirm;
    get  "/office/households/{id}"           SignedIn => pages::households::show;
    post "/office/households/{id}"           SignedIn => pages::households::update;
    get  "/office/households/{id}/edit"      SignedIn => pages::households::edit_form;
    post "/office/households/{id}/delete"    SignedIn => pages::households::delete;
    get  "/office/households/{id}/history"   SignedIn => pages::households::history;
    post "/office/households/{id}/members"   SignedIn => pages::households::add_member;
    get  "/office/households/{id}/members/{mid}/remove" SignedIn => pages::households::remove_confirm;
    post "/office/households/{id}/members/{mid}/remove" SignedIn => pages::households::remove_member;
    post "/office/households/{id}/incomes"   SignedIn => pages::households::income;
    post "/office/households/{id}/follow-ups" SignedIn => pages::households::follow_up;
    get  "/office/dashboard"                 SignedIn => pages::dashboard::dashboard;
    get  "/office/members"                   SignedIn => pages::members::search;
    post "/office/members/search"            SignedIn => pages::members::search_id;
    post "/office/members/{id}/link"         SignedIn => pages::members::link_learner;
    post "/office/members/{id}/learner"      SignedIn => pages::members::create_learner;
    post "/api/v1/auth/login"                Public   => api::auth::login;
    post "/api/v1/auth/logout"               SignedIn => api::auth::logout;
    post "/api/v1/auth/reset-request"        Public   => api::auth::reset_request;
    post "/api/v1/auth/reset"                Public   => api::auth::reset;
    get  "/api/v1/openapi.json"              Public   => api::openapi::document;
    get  "/api/v1/me"                        SignedIn => api::auth::me;
    get  "/api/v1/users"                     SignedIn => api::users::list;
    post "/api/v1/users"                     SignedIn => api::users::create;
    post "/api/v1/users/import"              SignedIn => api::users::import;
    get  "/api/v1/users/{id}"                SignedIn => api::users::get;
    patch "/api/v1/users/{id}"               SignedIn => api::users::update;
    post "/api/v1/users/{id}/password"       SignedIn => api::users::set_password;
    get  "/api/v1/courses"                   SignedIn => api::learning::courses;
    get  "/api/v1/courses/{slug}"            SignedIn => api::learning::course;
    get  "/api/v1/courses/{slug}/lessons/{lesson}" SignedIn => api::learning::lesson;
    get  "/api/v1/courses/{slug}/quizzes/{quiz}" SignedIn => api::learning::quiz;
    post "/api/v1/courses/{slug}/enroll"     SignedIn => api::learning::enroll_api;
    patch "/api/v1/users/{id}/enrollments/{slug}" SignedIn => api::learning::enrollment_state;
    post "/api/v1/courses/{slug}/quizzes/{quiz}/attempts" SignedIn => api::learning::attempt;
    post "/api/v1/events"                    SignedIn => api::learning::post_events;
    get  "/api/v1/me/progress"               SignedIn => api::learning::my_progress;
    post "/api/v1/tasks/signoff"             SignedIn => api::learning::signoff;
    post "/api/v1/sessions"                  SignedIn => api::learning::create_session;
    post "/api/v1/sessions/{id}/attendance"  SignedIn => api::learning::attendance;
    get  "/api/v1/certificates/{code}"       Public   => api::learning::certificate;
    post "/api/v1/certificates/{code}/revoke" SignedIn => api::learning::revoke;
    get  "/api/v1/areas"                     SignedIn => api::users::areas_list;
    post "/api/v1/areas"                     SignedIn => api::users::areas_create;
    get  "/api/v1/audit"                     SignedIn => api::users::audit_list;
    get  "/api/v1/households"                SignedIn => api::households::list;
    post "/api/v1/households"                SignedIn => api::households::create;
    get  "/api/v1/households/export"         SignedIn => api::households::export;
    get  "/api/v1/households/template.csv"   SignedIn => api::households::template;
    post "/api/v1/households/import"         SignedIn => api::households::import;
    get  "/api/v1/households/{id}"           SignedIn => api::households::get;
    patch "/api/v1/households/{id}"          SignedIn => api::households::update;
    delete "/api/v1/households/{id}"         SignedIn => api::households::delete;
    get  "/api/v1/households/{id}/history"   SignedIn => api::households::history;
    post "/api/v1/households/{id}/follow-ups" SignedIn => api::households::follow_up;
    post "/api/v1/households/{id}/incomes"   SignedIn => api::households::income;
    get  "/api/v1/reports/summary"           SignedIn => api::reports::summary;
    get  "/api/v1/reports/export"            SignedIn => api::reports::export;
    post "/teach/courses/{slug}/lessons/{lesson}/narration/{lang}" SignedIn => pages::authoring::narration_upload;
    post "/teach/courses/{slug}/lessons/{lesson}/narration/{lang}/remove" SignedIn => pages::authoring::narration_remove;
    post "/teach/courses/{slug}/lessons/{lesson}/pictures" SignedIn => pages::authoring::picture_upload;
    post "/teach/courses/{slug}/lessons/{lesson}/videos" SignedIn => pages::authoring::video_upload;
    post "/teach/courses/{slug}/lessons/{lesson}/captions" SignedIn => pages::authoring::captions_save;
    get  "/teach/courses/{slug}/videos/{id}" SignedIn => pages::authoring::video_status;
    post "/teach/courses/{slug}/lessons/{lesson}/tracks" SignedIn => pages::authoring::track_add;
    post "/teach/courses/{slug}/lessons/{lesson}/tracks/{track}/remove" SignedIn => pages::authoring::track_remove;
    post "/teach/courses/{slug}/quizzes/{quiz}/audio/{qid}/{target}/{lang}" SignedIn => pages::authoring::question_audio_upload;
    post "/teach/courses/{slug}/quizzes/{quiz}/audio/{qid}/{target}/{lang}/remove" SignedIn => pages::authoring::question_audio_remove;
    get  "/manifest.webmanifest"             Public   => pages::offline::manifest;
    get  "/sw.js"                            Public   => pages::offline::service_worker;
    post "/me/low-data"                      SignedIn => pages::offline::low_data_toggle;
    get  "/api/v1/courses/{slug}/offline"    SignedIn => api::offline::course_files;
    get  "/privacy"                          Public   => pages::site::privacy;
    get  "/site/seal"                        Public   => pages::site::seal_image;
    get  "/admin/settings"                   SignedIn => pages::site::settings;
    post "/admin/settings"                   SignedIn => pages::site::settings_save;
    post "/admin/settings/seal"              SignedIn => pages::site::seal_upload;
    get  "/admin/settings/seal/remove"       SignedIn => pages::site::seal_remove_confirm;
    post "/admin/settings/seal/remove"       SignedIn => pages::site::seal_remove;
}
