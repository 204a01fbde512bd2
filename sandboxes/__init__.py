"""Local stand-ins for the outside services (Epay, eSIM Access, Webkassa), built from their specs."""
