"""Pure domain logic: no discord import here (a structure test enforces it), so it is easy to test."""
