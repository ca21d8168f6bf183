-- Rasa's tracker store lives beside the router's database, in its own database.
CREATE DATABASE rasa OWNER luukku;
