"""Array ops with static shapes: boxes, anchors, NMS, RoI Align, CPU-friendly convolutions."""

from spm_jax.ops.anchors import anchor_shapes, generate_anchors
from spm_jax.ops.boxes import (box_area, context_side, cxcywh_to_xywh, cxcywh_to_xyxy,
                               decode_deltas, encode_deltas, iou, pairwise_iou, xywh_to_cxcywh,
                               xyxy_to_cxcywh)
from spm_jax.ops.nms import nms_top_k
from spm_jax.ops.roi_align import crop_and_resize, roi_align
