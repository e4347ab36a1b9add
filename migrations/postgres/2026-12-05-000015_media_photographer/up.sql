-- A picture's maker is a contributor (credited with the role photographer
-- in the picture's answers); `credit` stays the line printed under it.
ALTER TABLE media ADD COLUMN photographer_id INTEGER REFERENCES contributors (id);
