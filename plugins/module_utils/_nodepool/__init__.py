# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the ``nodepool`` module: its field table, builders, comparison and Kubernetes I/O.

``fields`` holds the one table of the module's options and the Karpenter fields each sets;
``v1`` and ``v1alpha5`` build the objects of each API generation; ``compare`` decides whether
the cluster already holds them; ``objects`` reads and writes them; ``convert`` turns live
Karpenter 0.16 objects into their 1.x equivalents. Nothing here is a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
