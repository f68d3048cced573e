// Runs one value-transfer flow with one Ethereum client library, with its
// default options, against a chaind node, and prints what it saw as one
// JSON line. The flow: chain id, balances, a transfer (the library picks
// type, fees, gas and nonce itself), its receipt, eth_call of a plain
// transfer, eth_getLogs, and two new heads (subscribed over WebSocket,
// polled over HTTP, as each library does).
// Usage: node clients.mjs ethers|viem|web3 URL PRIVATE_KEY
// Only the library asked for is loaded.
import { randomBytes } from "node:crypto";

const [lib, url, key] = process.argv.slice(2);
const ws = url.startsWith("ws");
const to = "0x" + randomBytes(20).toString("hex");
const value = 1234567890123456789n;

// Each flow returns { chainId, before, after, received, status, fee, call, logs, heads }.
const flows = {
  async ethers() {
    const { ethers } = await import("ethers");
    const provider = ws ? new ethers.WebSocketProvider(url) : new ethers.JsonRpcProvider(url);
    const wallet = new ethers.Wallet(key, provider);
    const heads = new Promise((resolve) => {
      let n = 0;
      provider.on("block", () => { if (++n === 2) resolve(n); });
    });
    const chainId = (await provider.getNetwork()).chainId;
    const before = await provider.getBalance(wallet.address);
    const tx = await wallet.sendTransaction({ to, value });
    const rc = await tx.wait(1, 60000);
    const out = {
      chainId, before, after: await provider.getBalance(wallet.address, rc.blockNumber),
      received: await provider.getBalance(to), status: rc.status, fee: rc.gasUsed * rc.gasPrice,
      call: await provider.call({ to, data: "0x" }),
      logs: (await provider.getLogs({ fromBlock: 0, toBlock: "latest" })).length,
      heads: await heads,
    };
    await provider.destroy();
    return out;
  },

  async viem() {
    const viem = await import("viem");
    const { privateKeyToAccount } = await import("viem/accounts");
    const transport = ws ? viem.webSocket(url) : viem.http(url, { batch: true });
    const chainId = await viem.createPublicClient({ transport }).getChainId();
    const chain = viem.defineChain({ id: chainId, name: "chaind", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [url] } } });
    const pub = viem.createPublicClient({ chain, transport, pollingInterval: 200 });
    const account = privateKeyToAccount(key);
    const wallet = viem.createWalletClient({ account, chain, transport });
    const heads = new Promise((resolve) => {
      let n = 0;
      const unwatch = pub.watchBlocks({ onBlock: () => { if (++n === 2) { unwatch(); resolve(n); } } });
    });
    const before = await pub.getBalance({ address: account.address });
    const hash = await wallet.sendTransaction({ to, value });
    const rc = await pub.waitForTransactionReceipt({ hash });
    const call = await pub.call({ account, to, data: "0x" });
    const out = {
      chainId, before, after: await pub.getBalance({ address: account.address, blockNumber: rc.blockNumber }),
      received: await pub.getBalance({ address: to }), status: rc.status === "success" ? 1 : 0, fee: rc.gasUsed * rc.effectiveGasPrice,
      call: call.data ?? "0x", logs: (await pub.getLogs({ fromBlock: 0n, toBlock: "latest" })).length, heads: await heads,
    };
    if (ws) (await transport({ chain }).value.getRpcClient()).close();
    return out;
  },

  async web3() {
    const { Web3 } = await import("web3");
    const web3 = new Web3(url);
    const account = web3.eth.accounts.privateKeyToAccount(key);
    web3.eth.accounts.wallet.add(account);
    let heads;
    if (ws) {
      const sub = await web3.eth.subscribe("newBlockHeaders");
      heads = new Promise((resolve) => {
        let n = 0;
        sub.on("data", () => { if (++n === 2) { resolve(n); sub.unsubscribe(); } });
      });
    } else {
      heads = (async () => {
        const start = await web3.eth.getBlockNumber();
        while ((await web3.eth.getBlockNumber()) < start + 2n) await new Promise((r) => setTimeout(r, 200));
        return 2;
      })();
    }
    const chainId = await web3.eth.getChainId();
    const before = await web3.eth.getBalance(account.address);
    const rc = await web3.eth.sendTransaction({ from: account.address, to, value });
    const out = {
      chainId, before, after: await web3.eth.getBalance(account.address, rc.blockNumber),
      received: await web3.eth.getBalance(to), status: Number(rc.status), fee: rc.gasUsed * rc.effectiveGasPrice,
      call: await web3.eth.call({ to, data: "0x" }), logs: (await web3.eth.getPastLogs({ fromBlock: 0, toBlock: "latest" })).length,
      heads: await heads,
    };
    if (ws) web3.provider.disconnect();
    return out;
  },
};

const r = await flows[lib]();
console.log(JSON.stringify({
  lib, transport: ws ? "ws" : "http", chainId: r.chainId.toString(), status: r.status,
  debitedExactly: BigInt(r.before) - BigInt(r.after) === value + BigInt(r.fee),
  received: BigInt(r.received) === value, call: r.call, logs: r.logs, heads: r.heads,
}));
process.exit(0);
