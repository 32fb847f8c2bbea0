//! Users: creating them (one, the first admin, or learners from CSV),
//! finding and listing those an actor may see, changing them, and setting
//! their passwords. Never stores or shows a password or PIN in clear, and
//! never decides permissions itself (it asks `policy`).

mod create;
mod credentials;
pub mod fields;
mod import;
mod inputs;
mod list;
mod update;
mod view;

pub use create::{create, create_and_welcome, ensure_admin};
pub use credentials::{bump_token_version, reset_password, set_password};
pub use import::import_learners;
pub use inputs::{NewUser, UserChange, UserQuery, page_params};
pub use list::{find, find_by_login, get_managed, list, list_in};
pub use update::update;
pub use view::{UserView, actor_of, snapshot};
