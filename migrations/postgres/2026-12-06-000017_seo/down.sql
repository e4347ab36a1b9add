ALTER TABLE site_settings DROP COLUMN logo_url;
ALTER TABLE articles DROP COLUMN seo_description;
ALTER TABLE articles DROP COLUMN seo_title;
