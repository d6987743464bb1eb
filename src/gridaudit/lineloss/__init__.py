"""Line loss (线损四分): balance by area, feeder, voltage level and unit; customers behind it; technical loss."""
