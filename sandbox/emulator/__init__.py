"""Local AWS emulator for the sandbox: moto in server mode with sandbox-specific fixes.

``python -m sandbox.emulator.server`` runs it; ``sandbox.emulator.seed`` creates what a fresh
EKS cluster has, as eksctl, terraform-aws-eks or Karpenter's guide made it
(``profiles``). See README.md in this folder for what is patched.
"""
