ALTER TABLE accounts ADD COLUMN email text;
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);
