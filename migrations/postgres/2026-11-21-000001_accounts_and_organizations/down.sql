DROP TABLE organization_members;
DROP TABLE organizations;
DROP TABLE login_throttle;
DROP TABLE auth_tokens;
DROP TABLE users;
