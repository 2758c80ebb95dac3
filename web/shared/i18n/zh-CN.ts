import zhCNCore from './zh-CN-core';
import zhCNScreens from './zh-CN-screens';

/** 简体中文, whole: the page loads it in two parts (index.ts); the server and the tests read it whole. */
const zhCN = { ...zhCNCore, ...zhCNScreens };
export default zhCN;
export type Messages = typeof zhCN;
