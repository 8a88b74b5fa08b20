"""Content of the public site that belongs to no other app: service passports, regulatory documents, the
FAQ, information pages and the region outlines drawn on the territory map (docs/decisions/0003)."""
