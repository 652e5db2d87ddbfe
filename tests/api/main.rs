//! Integration tests over HTTP. One binary, so the crate links once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod binary;
mod catalog;
mod deals;
mod edge;
mod email;
mod health;
mod helpers;
mod imports;
mod mail;
mod matching;
mod migrations;
mod organizations;
mod queries;
mod relevance;
mod search;
mod sink;
mod states;
