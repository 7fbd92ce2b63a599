"""A small shop: the sample workspace the language-server tests open."""
