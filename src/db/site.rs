use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::site_settings;
use super::AnyConnection;
use crate::error::AppError;

/// The site's footer and identity: one row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = site_settings)]
pub struct SiteRow {
    pub id: i32,
    pub name: String,
    pub copyright_holder: String,
    pub address: String,
    pub postcode: String,
    pub email: String,
    pub icp_filing: String,
    pub news_service_filing: String,
    pub complaint_phone: String,
    pub complaint_email: String,
    pub time_zone: String,
    pub default_script: String,
    pub updated_at: NaiveDateTime,
    /// The site's logo (an absolute URL), named as the publisher's in
    /// structured data; empty when none is set.
    pub logo_url: String,
}

impl SiteRow {
    fn empty() -> SiteRow {
        SiteRow {
            id: 1,
            name: String::new(),
            copyright_holder: String::new(),
            address: String::new(),
            postcode: String::new(),
            email: String::new(),
            icp_filing: String::new(),
            news_service_filing: String::new(),
            complaint_phone: String::new(),
            complaint_email: String::new(),
            time_zone: "Asia/Shanghai".into(),
            default_script: "hant".into(),
            updated_at: super::now(),
            logo_url: String::new(),
        }
    }
}

/// The settings row; an empty one when none was stored yet.
pub fn load(conn: &mut AnyConnection) -> Result<SiteRow, AppError> {
    Ok(site_settings::table
        .select(SiteRow::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_else(SiteRow::empty))
}

/// Stores the settings row, creating it when missing.
pub fn save(conn: &mut AnyConnection, row: &SiteRow) -> Result<(), AppError> {
    let exists = site_settings::table
        .select(site_settings::id)
        .first::<i32>(conn)
        .optional()?
        .is_some();
    if exists {
        diesel::update(site_settings::table.find(1))
            .set(row)
            .execute(conn)?;
    } else {
        diesel::insert_into(site_settings::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}
