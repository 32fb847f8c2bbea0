//! The one place that decides permissions: `(actor, action, target)`.
//!
//! Admins act everywhere. Officials and trainers act inside their area's
//! subtree (a code-prefix match). Learners act on themselves only. A role that
//! may never do an action gets 403; a target outside the actor's area gets 404,
//! exactly like a target that does not exist, so existence does not leak.
//!
//! Courses are authored by trainers and admins. A trainer edits, publishes and
//! archives the courses she started in the browser (the author of a course's
//! first version); admins edit every course, including the shipped ones that
//! came from `courses/` files. The shipped courses are reviewed in git, and a
//! browser edit by any trainer would silently fork them from their files, so
//! that is kept to admins. Another trainer's course is a 404, like a record
//! outside one's area.

use crate::areas::AreaCode;
use crate::error::{AppError, AppResult};
use crate::vocab::Role;

/// The signed-in person, as every handler and service sees them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i64,
    pub role: Role,
    pub login: String,
    pub display_name: String,
    /// Scope of a trainer or official; home village of a learner.
    pub area: Option<AreaCode>,
    pub member_id: Option<i64>,
    pub locale: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageAreas,
    ViewAudit,
    ListUsers,
    CreateLearner,
    CreateStaff,
    /// Disable, enable, reset the password of, or edit a user.
    ManageUser,
    /// Change a user's role or scope.
    ChangeRole,
    ViewHouseholds,
    EditHouseholds,
    ViewSensitive,
    AuthorCourses,
    ViewDraftCourses,
    EnrollOthers,
    /// Pause, withdraw or resume a learner's enrollment.
    ChangeEnrollment,
    SignOffTasks,
    RunClasses,
    RevokeCertificates,
    ViewReports,
    Learn,
    ViewMail,
    /// Set who runs the site (organiser, contact, ICP number, seal).
    ManageSite,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the role may ever take this action (403 otherwise).
    pub fn may(&self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            ManageAreas | ViewAudit | CreateStaff | ChangeRole | ViewMail | ManageSite => {
                self.role == Admin
            }
            ListUsers | CreateLearner | ManageUser | ChangeEnrollment => {
                matches!(self.role, Admin | Trainer | Official)
            }
            ViewHouseholds | EditHouseholds | ViewSensitive | ViewReports => {
                matches!(self.role, Admin | Official)
            }
            AuthorCourses | ViewDraftCourses => matches!(self.role, Admin | Trainer),
            EnrollOthers | SignOffTasks | RunClasses => matches!(self.role, Admin | Trainer),
            RevokeCertificates => matches!(self.role, Admin | Trainer),
            Learn => self.role == Learner,
        }
    }

    pub fn require(&self, action: Action) -> AppResult<()> {
        if self.may(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The prefix every area this actor may act in starts with; `None` means
    /// everywhere (admins). A staff member without an area sees nothing.
    pub fn scope_prefix(&self) -> Option<String> {
        if self.is_admin() {
            return None;
        }
        Some(match &self.area {
            Some(a) => a.prefix().to_string(),
            // A prefix no 12-digit code starts with.
            None => "x".into(),
        })
    }

    pub fn in_scope(&self, area_code: Option<&str>) -> bool {
        match self.scope_prefix() {
            None => true,
            Some(p) => area_code.is_some_and(|c| c.starts_with(&p)),
        }
    }

    /// The action is allowed on a record in `area_code`: 403 for the wrong
    /// role, 404 outside the actor's area.
    pub fn require_in(&self, action: Action, area_code: Option<&str>) -> AppResult<()> {
        self.require(action)?;
        if self.in_scope(area_code) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// May author the course whose first version `owner` wrote (`None`: a
    /// course imported from files). 403 for roles that never author, 404 for
    /// a trainer's course that is not hers.
    pub fn require_course_author(&self, owner: Option<i64>) -> AppResult<()> {
        self.require(Action::AuthorCourses)?;
        if self.is_admin() || owner == Some(self.id) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The action is allowed on another user: staff act on learners inside
    /// their area; admins on anyone; learners only on themselves.
    pub fn require_user(
        &self,
        action: Action,
        target_id: i64,
        target_role: Role,
        target_area: Option<&str>,
    ) -> AppResult<()> {
        if self.id == target_id && self.role == Role::Learner {
            return Ok(());
        }
        self.require(action)?;
        if self.is_admin() {
            return Ok(());
        }
        if target_role != Role::Learner || !self.in_scope(target_area) {
            return Err(AppError::NotFound);
        }
        Ok(())
    }
}
