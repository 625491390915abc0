"""Small file writers used only by the tests, written from the format specifications."""
