# Make the collection importable as ansible_collections.jit.karpenter from the repo checkout.
import os
import sys

_BUILD = os.path.join(os.path.dirname(__file__), "..", "..", ".build", "collections")
if os.path.isdir(_BUILD) and os.path.abspath(_BUILD) not in sys.path:
    sys.path.insert(0, os.path.abspath(_BUILD))
