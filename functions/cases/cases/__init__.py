"""Cases (ärenden): the case types clinics offer, residents' cases, their messages and the staff work queue."""
