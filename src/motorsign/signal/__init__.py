"""Signal processing shared by the analyses: filters, robust noise,
rest/activity segmentation (and stimulus-artifact blanking in
:mod:`motorsign.signal.artifact`)."""
