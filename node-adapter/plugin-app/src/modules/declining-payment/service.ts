import { AbstractPaymentProvider, PaymentActions, PaymentSessionStatus } from "@medusajs/framework/utils"

/**
 * A payment provider for the tests that declines every authorization: Medusa's
 * completeCartWorkflow then fails after the loyalty plugin's
 * beforePaymentAuthorization hook has debited the cart's gift cards and store
 * credit, so its compensation (store_credit.deleteTransactions) runs for real.
 */
class DecliningPaymentProvider extends AbstractPaymentProvider<Record<string, unknown>> {
  static identifier = "declining"

  constructor(container: Record<string, unknown>, config: Record<string, unknown> = {}) {
    super(container, config)
  }

  async initiatePayment(_input: any): Promise<any> {
    return { id: `declining_${Date.now()}`, data: {} }
  }
  async authorizePayment(_input: any): Promise<any> {
    return { status: PaymentSessionStatus.ERROR, data: { declined: true } }
  }
  async getPaymentStatus(_input: any): Promise<any> {
    return { status: PaymentSessionStatus.ERROR }
  }
  async retrievePayment(_input: any): Promise<any> {
    return { data: {} }
  }
  async updatePayment(_input: any): Promise<any> {
    return { data: {} }
  }
  async deletePayment(_input: any): Promise<any> {
    return { data: {} }
  }
  async capturePayment(_input: any): Promise<any> {
    return { data: {} }
  }
  async refundPayment(_input: any): Promise<any> {
    return { data: {} }
  }
  async cancelPayment(_input: any): Promise<any> {
    return { data: {} }
  }
  async getWebhookActionAndData(_data: any): Promise<any> {
    return { action: PaymentActions.NOT_SUPPORTED }
  }
}

export default DecliningPaymentProvider
