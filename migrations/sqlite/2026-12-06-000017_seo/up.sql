-- Editors' overrides of what search engines and social cards show (NULL:
-- derived from the title and summary), and the logo the site's structured
-- data names for its publisher.
ALTER TABLE articles ADD COLUMN seo_title TEXT;
ALTER TABLE articles ADD COLUMN seo_description TEXT;
ALTER TABLE site_settings ADD COLUMN logo_url TEXT NOT NULL DEFAULT '';
