import { createStep, StepResponse } from "@medusajs/framework/workflows-sdk"
import { LOYALTY_MODULE } from "../../modules/loyalty/joiner"
import type { ILoyaltyModuleService } from "../../modules/loyalty/types"
import type { AdjustPointsInput, AdjustPointsResult } from "../../modules/loyalty/service"
import { toDecimalString } from "../../modules/loyalty/convert"

export type AdjustPointsStepInput = AdjustPointsInput

type Compensation = {
  customer_id: string
  delta: string
  adjustment_id: string
  idempotency_key: string
}

export const adjustPointsStepId = "adjust-loyalty-points"

/** "100" -> "-100", "-50" -> "50" (a string operation: no float rounding). */
export function negateDecimal(delta: string): string {
  const d = delta.trim()
  if (d.startsWith("-")) {
    return d.slice(1)
  }
  return `-${d.startsWith("+") ? d.slice(1) : d}`
}

/** The idempotency key of the reversal: derived from the original, so a retried compensation applies once. */
export function reversalKey(original: { idempotency_key?: string | null; adjustment_id: string }): string {
  return `reversal:${original.idempotency_key || original.adjustment_id}`
}

/**
 * The key used when the caller gives none: one per workflow transaction and
 * step, the same on every retry of this step.
 */
export function stepIdempotencyKey(context: { transactionId?: string; idempotencyKey?: string }): string {
  if (context.transactionId) {
    return `${context.transactionId}:${adjustPointsStepId}`
  }
  return context.idempotencyKey ?? ""
}

/**
 * Adjusts a customer's points (with the caller's idempotency key, or one
 * derived from the workflow transaction). Compensation applies the reverse adjustment
 * with an idempotency key derived from the original. A replay (the key
 * matched an earlier request, nothing applied now) has nothing to compensate.
 */
export const adjustPointsStep = createStep(
  adjustPointsStepId,
  async (input: AdjustPointsStepInput, context) => {
    const loyalty = context.container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
    const delta = toDecimalString(input.delta)
    // Always keyed: a step retried (e.g. after a deadline whose request did land) applies once.
    const idempotency_key = input.idempotency_key || stepIdempotencyKey(context)
    let result: AdjustPointsResult = await loyalty.adjustPoints({ ...input, delta, idempotency_key })
    if (result.replayed && !input.idempotency_key) {
      // The derived key is this transaction's own: the replay is an earlier attempt of this very
      // step that did land, so this run applied it (event and compensation as for a fresh one).
      result = { ...result, replayed: false }
    }
    if (result.replayed) {
      // null, not undefined: StepResponse falls back to the output when no compensation input is given.
      return new StepResponse(result, null as Compensation | null)
    }
    const compensation: Compensation = {
      customer_id: result.customer_id,
      delta,
      adjustment_id: result.id,
      idempotency_key: reversalKey({ idempotency_key, adjustment_id: result.id }),
    }
    return new StepResponse(result, compensation)
  },
  async (compensation: Compensation | null | undefined, { container }) => {
    if (!compensation) {
      return
    }
    const loyalty = container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
    await loyalty.adjustPoints({
      customer_id: compensation.customer_id,
      delta: negateDecimal(compensation.delta),
      reason: `Reversal of ${compensation.adjustment_id}`,
      idempotency_key: compensation.idempotency_key,
    })
  }
)
