"""A small order-processing program that `scopeline demo` traces."""
