// Sends a transfer from an account the node holds unlocked: ethers v6
// through a JsonRpcSigner, viem through a JSON-RPC account, both of which
// call eth_sendTransaction and let the node sign. Waits for the receipt and
// prints what it saw as one JSON line; on a node that holds no keys it
// prints the error the node gave instead.
// Usage: node unlocked.mjs ethers|viem URL FROM
import { randomBytes } from "node:crypto";

const [lib, url, from] = process.argv.slice(2);
const to = "0x" + randomBytes(20).toString("hex");
const value = 1000000000000000000n;

const flows = {
  async ethers() {
    const { ethers } = await import("ethers");
    const provider = new ethers.JsonRpcProvider(url);
    const accounts = await provider.send("eth_accounts", []);
    const signer = new ethers.JsonRpcSigner(provider, from);
    try {
      const tx = await signer.sendTransaction({ to, value });
      const rc = await tx.wait(1, 60000);
      return { accounts, status: rc.status, from: rc.from, received: (await provider.getBalance(to)).toString() };
    } catch (e) {
      return { accounts, error: e.error?.message ?? e.message };
    } finally {
      provider.destroy();
    }
  },

  async viem() {
    const viem = await import("viem");
    const transport = viem.http(url);
    const chainId = await viem.createPublicClient({ transport }).getChainId();
    const chain = viem.defineChain({ id: chainId, name: "chaind", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [url] } } });
    const pub = viem.createPublicClient({ chain, transport, pollingInterval: 200 });
    const wallet = viem.createWalletClient({ account: from, chain, transport });
    const accounts = await wallet.getAddresses();
    try {
      const hash = await wallet.sendTransaction({ to, value });
      const rc = await pub.waitForTransactionReceipt({ hash });
      return { accounts, status: rc.status === "success" ? 1 : 0, from: rc.from, received: (await pub.getBalance({ address: to })).toString() };
    } catch (e) {
      return { accounts, error: e.details ?? e.message };
    }
  },
};

console.log(JSON.stringify(await flows[lib]()));
