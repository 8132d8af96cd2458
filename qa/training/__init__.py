"""The reader lab: SQuAD data, synthetic questions, training a span reader, calibrating when to abstain.

Nothing here runs when a question is answered; `qa train-reader` (`qa.training.cli`) drives it.
"""
