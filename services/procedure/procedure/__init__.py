"""procedure: the IND's asylum procedure. Owns applications, tracks, reception streams, hearings,
decisions, appeals and permits; publishes outcome codes only, never motives or hearing reports."""
