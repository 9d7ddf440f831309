-- Delayed patients by home locality (`delayed_patients_home`) used to be summed from exact
-- per-site counts, so a locality's history could hold a count from 1 to 4 that every
-- signed-in role may read. It is now summed from the cells the live state publishes after
-- disclosure control (docs/security.md, "Small numbers"); what was recorded before goes.
DELETE FROM history WHERE measure = 'delayed_patients_home';
