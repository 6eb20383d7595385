"""Local AWS emulator for the sandbox: moto in server mode with sandbox-specific fixes.

``python -m sandbox.emulator.server`` runs it; ``sandbox.emulator.seed`` creates what a fresh
eksctl-created EKS cluster has. See README.md in this folder for what is patched.
"""
