//! Every route of fuzhi, in one place.

use actix_web::web;

use super::{api, pages};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(api::health::healthz))
        .service(web::scope("/api/v1").configure(api::configure))
        .configure(pages::configure);
}
