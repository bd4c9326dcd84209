import { ModuleProvider, Modules } from "@medusajs/framework/utils"
import DecliningPaymentProvider from "./service"

export default ModuleProvider(Modules.PAYMENT, { services: [DecliningPaymentProvider] })
