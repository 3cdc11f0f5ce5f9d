"""Evaluation of what policywatch says about real histories, against gold labels."""
