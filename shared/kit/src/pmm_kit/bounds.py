"""The ranges that integer parameters take in every service.

A number outside its column's range would reach PostgreSQL and fail there ("value
out of int32 range"); declared on the parameter, it is refused as a validation
problem naming the parameter instead.
"""

# A calendar year a PMM figure can be about: wide enough for any history or plan.
MIN_YEAR = 1900
MAX_YEAR = 2200

# The largest value of an `integer` column (revision numbers and the like).
MAX_INT32 = 2**31 - 1
