//! Who is acting: the one place that answers "is this person on the side of that listing,
//! deal or organisation, and for which organisation do they speak?".
//!
//! Catalog (who sees and edits a listing), deals (which side a caller is on), brokers'
//! matches (who may take one up), organisations (who manages one) and the visibility of
//! search all ask an [`Actor`], loaded once per request from the signed-in [`Caller`].

use diesel::QueryResult;

use crate::accounts::model::{Caller, Role};
use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::organizations::model::MemberRole;
use crate::organizations::repo as organizations;

/// Who a listing (or one side of a deal) belongs to: an organisation, a person (an expert's
/// own profile), both, or nobody — a profile imported from the Hanoi Initiative Network,
/// which the exchange's moderators answer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Owner {
    pub org: Option<i64>,
    pub user: Option<i64>,
}

impl Owner {
    pub fn new(org: Option<i64>, user: Option<i64>) -> Self {
        Self { org, user }
    }

    /// No account and no organisation: the moderators answer for it.
    pub fn is_nobody(self) -> bool {
        self.org.is_none() && self.user.is_none()
    }
}

/// What an organisation named in a request is for: a listing it will own, or a request it
/// makes (a contact request, an offer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// A technology or need needs an owning organisation; moderators may file one for any
    /// organisation (the Department registers listings on institutes' behalf).
    Owns,
    /// A person may ask on their own or for one of their organisations, never for an
    /// organisation they do not belong to, moderators included.
    Asks,
}

/// The caller and their organisations, or nobody (an anonymous visitor).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    user_id: Option<i64>,
    moderator: bool,
    platform_admin: bool,
    memberships: Vec<(i64, MemberRole)>,
}

impl Actor {
    /// A visitor who is not signed in.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The signed-in caller with their organisations (one query), or an anonymous visitor.
    pub fn load(conn: &mut DbConn, caller: Option<&Caller>) -> QueryResult<Self> {
        let Some(caller) = caller else {
            return Ok(Self::anonymous());
        };
        Ok(Self {
            user_id: Some(caller.user_id),
            moderator: caller.role.can_moderate(),
            platform_admin: caller.role == Role::Admin,
            memberships: organizations::memberships_of(conn, caller.user_id)?,
        })
    }

    /// The signed-in caller; `load` for a caller that must be signed in.
    pub fn signed_in(conn: &mut DbConn, caller: &Caller) -> QueryResult<Self> {
        Self::load(conn, Some(caller))
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    /// The caller's account, for actions that need one (401 for an anonymous visitor).
    pub fn account(&self) -> Result<i64, ApiError> {
        self.user_id.ok_or_else(ApiError::unauthenticated)
    }

    /// Moderators and admins of the platform (the Department of Science and Technology).
    pub fn is_moderator(&self) -> bool {
        self.moderator
    }

    /// The organisations the caller belongs to, in any role.
    pub fn org_ids(&self) -> Vec<i64> {
        self.memberships.iter().map(|(id, _)| *id).collect()
    }

    /// A member of `org`, in any role.
    pub fn is_member(&self, org: Option<i64>) -> bool {
        org.is_some_and(|o| self.memberships.iter().any(|(id, _)| *id == o))
    }

    /// An admin of `org`: manages its profile and members.
    pub fn is_admin_of(&self, org: i64) -> bool {
        self.memberships
            .iter()
            .any(|(id, role)| *id == org && *role == MemberRole::Admin)
    }

    /// Manages an organisation's profile and members: its admins, and the platform's.
    pub fn administers(&self, org: i64) -> bool {
        self.platform_admin || self.is_admin_of(org)
    }

    /// On the owner's side: a member of the owning organisation, or the person whose own
    /// profile it is.
    pub fn owns(&self, owner: Owner) -> bool {
        self.is_member(owner.org) || (owner.user.is_some() && owner.user == self.user_id)
    }

    /// Answers for it: owns it, or is a moderator and nobody else can (an imported profile).
    pub fn answers_for(&self, owner: Owner) -> bool {
        self.owns(owner) || (self.moderator && owner.is_nobody())
    }

    /// May change it: its owner's side, or a moderator.
    pub fn manages(&self, owner: Owner) -> bool {
        self.moderator || self.owns(owner)
    }

    /// The organisation a new listing or request is made for: the one named (the caller
    /// must belong to it, except moderators filing a listing), else the caller's only
    /// organisation. A listing must have one; a request may be made by a person alone.
    /// The caller checks that a named organisation exists.
    pub fn acting_organisation(
        &self,
        requested: Option<i64>,
        acting: Acting,
    ) -> Result<Option<i64>, ApiError> {
        if let Some(id) = requested {
            return if self.is_member(Some(id)) || (acting == Acting::Owns && self.moderator) {
                Ok(Some(id))
            } else if acting == Acting::Owns {
                Err(ApiError::forbidden(
                    "you are not a member of that organisation",
                ))
            } else {
                Err(ApiError::invalid(
                    "organization_id",
                    "you are not a member of this organisation",
                ))
            };
        }
        match (self.org_ids().as_slice(), acting) {
            ([only], _) => Ok(Some(*only)),
            ([], Acting::Asks) => Ok(None),
            ([], Acting::Owns) => Err(ApiError::invalid(
                "organization_id",
                "you belong to no organisation: register one (POST /api/v1/organizations) or ask to be added",
            )),
            (_, _) => Err(ApiError::invalid(
                "organization_id",
                "you belong to several organisations: say which one this is for",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member_of(user: i64, orgs: &[(i64, MemberRole)]) -> Actor {
        Actor {
            user_id: Some(user),
            moderator: false,
            platform_admin: false,
            memberships: orgs.to_vec(),
        }
    }

    #[test]
    fn owners_side_is_the_organisation_or_the_profile_holder() {
        let a = member_of(7, &[(3, MemberRole::Member)]);
        assert!(a.owns(Owner::new(Some(3), None)));
        assert!(a.owns(Owner::new(None, Some(7))));
        assert!(!a.owns(Owner::new(Some(4), Some(8))));
        assert!(!a.owns(Owner::default()), "nobody owns an imported profile");
        assert!(!Actor::anonymous().owns(Owner::new(None, None)));
    }

    #[test]
    fn moderators_answer_only_for_what_nobody_owns() {
        let m = Actor {
            user_id: Some(1),
            moderator: true,
            platform_admin: false,
            memberships: Vec::new(),
        };
        assert!(m.answers_for(Owner::default()));
        assert!(!m.answers_for(Owner::new(Some(3), None)));
        assert!(m.manages(Owner::new(Some(3), None)));
    }

    #[test]
    fn the_acting_organisation_follows_the_purpose() {
        let one = member_of(7, &[(3, MemberRole::Admin)]);
        assert_eq!(
            one.acting_organisation(None, Acting::Owns).unwrap(),
            Some(3)
        );
        assert_eq!(
            one.acting_organisation(None, Acting::Asks).unwrap(),
            Some(3)
        );
        assert!(one.acting_organisation(Some(4), Acting::Asks).is_err());
        assert!(one.is_admin_of(3) && !one.is_admin_of(4));
        let none = member_of(8, &[]);
        assert_eq!(none.acting_organisation(None, Acting::Asks).unwrap(), None);
        assert!(none.acting_organisation(None, Acting::Owns).is_err());
        let two = member_of(9, &[(3, MemberRole::Member), (4, MemberRole::Member)]);
        assert!(two.acting_organisation(None, Acting::Asks).is_err());
        assert_eq!(
            two.acting_organisation(Some(4), Acting::Asks).unwrap(),
            Some(4)
        );
        let m = Actor {
            user_id: Some(1),
            moderator: true,
            platform_admin: false,
            memberships: Vec::new(),
        };
        assert_eq!(
            m.acting_organisation(Some(5), Acting::Owns).unwrap(),
            Some(5)
        );
        assert!(m.acting_organisation(Some(5), Acting::Asks).is_err());
    }
}
