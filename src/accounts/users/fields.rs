//! Which fields of a user body each role may write, and on whom: the one
//! table `WRITABLE`, checked by `update` (`PATCH /api/v1/users/{id}`, the
//! admin form) and `create` (`POST /api/v1/users`, the users import, the
//! household page's "new learner"), and walked by the security tests. A
//! field that is sent with the value it already has is not a write; any
//! other field not in the row is refused (422 naming it), so a body cannot
//! carry more than the role may change (mass assignment). Linking an account
//! to a household member is an official's act (or an admin's), within her
//! area.

use crate::accounts::Role;

/// A writable field of `UserChange` or `NewUser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    DisplayName,
    Email,
    Role,
    AreaCode,
    Disabled,
    MemberId,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::DisplayName,
        Field::Email,
        Field::Role,
        Field::AreaCode,
        Field::Disabled,
        Field::MemberId,
    ];

    /// Its name in the JSON body.
    pub fn name(self) -> &'static str {
        match self {
            Field::DisplayName => "display_name",
            Field::Email => "email",
            Field::Role => "role",
            Field::AreaCode => "area_code",
            Field::Disabled => "disabled",
            Field::MemberId => "member_id",
        }
    }
}

/// Whose record is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The actor's own account.
    Own,
    /// A learner in the actor's area (staff), or anyone (admins).
    Managed,
}

/// The fields each role may write, per target. Not listed: refused.
pub const WRITABLE: &[(Role, Target, &[Field])] = &[
    (
        Role::Learner,
        Target::Own,
        &[Field::DisplayName, Field::Email],
    ),
    (
        Role::Trainer,
        Target::Managed,
        &[
            Field::DisplayName,
            Field::Email,
            Field::AreaCode,
            Field::Disabled,
        ],
    ),
    (
        Role::Official,
        Target::Managed,
        &[
            Field::DisplayName,
            Field::Email,
            Field::AreaCode,
            Field::Disabled,
            Field::MemberId,
        ],
    ),
    (Role::Admin, Target::Own, &Field::ALL),
    (Role::Admin, Target::Managed, &Field::ALL),
];

/// Whether `role` may write `field` on `target`.
pub fn may_write(role: Role, target: Target, field: Field) -> bool {
    WRITABLE
        .iter()
        .any(|(r, t, fs)| *r == role && *t == target && fs.contains(&field))
}

/// The error for a field the actor may not write.
pub fn refused(role: Role, field: Field) -> (String, String) {
    (
        field.name().to_string(),
        format!(
            "a {} may not set this field here (此字段不能由{}修改)",
            role.as_str(),
            match role {
                Role::Learner => "学员",
                Role::Trainer => "培训员",
                Role::Official => "干部",
                Role::Admin => "管理员",
            }
        ),
    )
}
