import { createStep, StepResponse } from "@medusajs/framework/workflows-sdk"
import { LOYALTY_MODULE } from "../../modules/loyalty/joiner"
import type { CreateGiftCardInput, ILoyaltyModuleService } from "../../modules/loyalty/types"

/** One gift card or several (as the service's createGiftCards takes them). */
export type CreateGiftCardsStepInput = CreateGiftCardInput | CreateGiftCardInput[]

export const createGiftCardsStepId = "create-gift-cards"

/**
 * Creates gift cards in the loyalty service (a code is generated there when
 * none is given). Compensation deletes the cards it created.
 */
export const createGiftCardsStep = createStep(
  createGiftCardsStepId,
  async (input: CreateGiftCardsStepInput, { container }) => {
    const loyalty = container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
    // Same shape out as in: one card for one object, a list for a list.
    const giftCards = Array.isArray(input)
      ? await loyalty.createGiftCards(input)
      : await loyalty.createGiftCards(input)
    const ids = (Array.isArray(giftCards) ? giftCards : [giftCards]).map((gc) => gc.id)
    return new StepResponse(giftCards, ids)
  },
  async (ids: string[] | undefined, { container }) => {
    if (!ids?.length) {
      return
    }
    const loyalty = container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
    await loyalty.deleteGiftCards(ids)
  }
)
