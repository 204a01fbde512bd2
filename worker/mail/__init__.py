"""E-mail: the SMTP client, the buyer's delivery and failure e-mails, support alerts."""
