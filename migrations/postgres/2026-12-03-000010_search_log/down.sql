DROP TABLE search_identity;
DROP TABLE search_log;
