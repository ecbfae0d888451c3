"""The panels beside the piano roll and the dialogs they open: Library, Train (with its start
choice, readouts, jobs, loss chart and run browser), Generate (with its job and the Steer box),
Tracks, Add a part, the evaluation report, and the panels' settings kept across starts."""
