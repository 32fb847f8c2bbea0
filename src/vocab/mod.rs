//! The closed sets the tables store by name: who a person is (`Role`) and
//! the household form's vocabularies (`household`). They sit below every
//! module that stores, checks or shows them; each is an enum, never a
//! string compared by hand.

pub mod household;
mod role;

pub use role::Role;
