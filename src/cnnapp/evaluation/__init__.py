"""A trained model put to the test: its probabilities and figures, its run evaluated again on any data whose classes
it knows (exactly its own test photos on its own data), on photos changed on purpose, and its training curves."""
